import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { WorkflowClientInterceptor } from "@temporalio/client";
import type { OpenTelemetrySinks } from "@temporalio/interceptors-opentelemetry";
import type { ActivityInterceptorsFactory, InjectedSinks } from "@temporalio/worker";
import type { SpanProcessor } from "@opentelemetry/sdk-trace-base";
import type { Tracing } from "../observability/tracing/interface.js";

/**
 * Temporal's OpenTelemetry interceptors (@temporalio/interceptors-opentelemetry, at the SDK's version): a workflow
 * start carries the active trace context in its headers, the workflow's own spans (run, activity starts) continue
 * it, and so does every activity, the pipeline's step spans inside runMicrotask included, and the task's execution
 * row. Its workflow half is in every workflow bundle (src/orchestration/bundle.ts), so that workflow code is the same
 * whatever the configuration, but it loads only in a workflow whose start carried a trace
 * (workflows/tracing-interceptors.ts).
 */
export const WORKFLOW_TRACING_MODULE = workflowModule("tracing-interceptors");

/** A module beside the workflows: its TypeScript source when run from src, its compiled file when run from dist. */
function workflowModule(name: string): string {
  const source = join(dirname(fileURLToPath(import.meta.url)), "workflows", `${name}.ts`);
  return existsSync(source) ? source : source.replace(/\.ts$/, ".js");
}

export interface TemporalTracing {
  /** For the client that starts tasks; none when tracing is off (no empty trace header on every start). */
  client: WorkflowClientInterceptor[];
  activity: ActivityInterceptorsFactory[];
  /** Where the workflow sandbox sends its finished spans: registered always, since the bundle always makes them. */
  sinks: InjectedSinks<OpenTelemetrySinks>;
}

/** Dropped, as the workflow sandbox's spans are when tracing is off here. */
const DROP: InjectedSinks<OpenTelemetrySinks> = { exporter: { export: { fn: () => undefined } } };

export async function temporalTracing(tracing: Tracing | undefined): Promise<TemporalTracing> {
  const spans = tracing?.spans ?? null;
  if (spans === null) return { client: [], activity: [], sinks: DROP };
  const otel = await import("@temporalio/interceptors-opentelemetry");
  return {
    client: [new otel.OpenTelemetryWorkflowClientInterceptor()],
    activity: [(ctx) => ({ inbound: new otel.OpenTelemetryActivityInboundInterceptor(ctx) })],
    sinks: { exporter: otel.makeWorkflowExporter(continuedOnly(spans.processor), spans.resource) },
  };
}

/**
 * Only sandbox spans that continue a trace: a root span there is a workflow or signal nobody traced (the host
 * directory's renewals every few seconds), which would otherwise start a trace of its own each time.
 */
function continuedOnly(processor: SpanProcessor): SpanProcessor {
  return {
    onStart: () => undefined,
    onEnd: (span) => {
      if (span.parentSpanId !== undefined) processor.onEnd(span);
    },
    forceFlush: () => processor.forceFlush(),
    shutdown: async () => undefined,
  };
}
