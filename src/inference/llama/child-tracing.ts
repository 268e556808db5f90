import { defaultTextMapGetter, ROOT_CONTEXT, type Attributes, type Span } from "@opentelemetry/api";
import { ExportResultCode, W3CTraceContextPropagator } from "@opentelemetry/core";
import { AlwaysOffSampler, BasicTracerProvider, ParentBasedSampler, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { handOver, type HandedSpan } from "../../observability/tracing/handover.js";

/**
 * A model host's spans: children of the `traceparent` its gateway sent with a request, recorded only when that
 * parent was sampled, and sent back to the gateway as they end, which exports them with its own. The host has no
 * network of its own (its egress guard allows nothing): its spans leave the process only over IPC. Loaded on the
 * first traced request, so a host whose gateway does not trace never loads the SDK.
 */
export class HostTracing {
  private readonly tracer;
  private readonly propagator = new W3CTraceContextPropagator();

  constructor(send: (spans: HandedSpan[]) => void) {
    const provider = new BasicTracerProvider({
      sampler: new ParentBasedSampler({ root: new AlwaysOffSampler() }),
      spanProcessors: [new SimpleSpanProcessor({
        export: (spans: ReadableSpan[], done) => {
          send(spans.map(handOver));
          done({ code: ExportResultCode.SUCCESS });
        },
        shutdown: async () => undefined,
      })],
    });
    this.tracer = provider.getTracer("atomic-model-host");
  }

  start(name: string, traceparent: string, attributes: Attributes): Span {
    const parent = this.propagator.extract(ROOT_CONTEXT, { traceparent }, defaultTextMapGetter);
    return this.tracer.startSpan(name, { attributes }, parent);
  }
}
