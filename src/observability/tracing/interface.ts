import type { Resource } from "@opentelemetry/resources";
import type { SpanProcessor } from "@opentelemetry/sdk-trace-base";

/**
 * Tracing as `tracing` configures it (./setup.ts). Spans are made through the OpenTelemetry API (`trace.getTracer`),
 * which answers with its no-op tracer until a provider is registered: code that makes spans never asks whether
 * tracing is on.
 */
export interface Tracing {
  /**
   * Where finished spans go, for spans made outside this process's tracer and handed over (Temporal's workflow
   * sandbox, model host processes), and the resource they are exported under; null when tracing is off.
   */
  readonly spans: { processor: SpanProcessor; resource: Resource } | null;
  /** Exports what is buffered now. */
  flush(): Promise<void>;
  /** Exports what is buffered and unregisters the provider, so that a later start in this process begins clean. */
  shutdown(): Promise<void>;
}

/** The instrumentation scope of Atomic's own spans. */
export const TRACER_NAME = "atomic";

/**
 * Span attributes Atomic sets. Never ids (request, execution, tenant, key) nor anything a caller wrote beyond an
 * identifier the gateway validated (a model id, a task label): a trace leaves the appliance for the collector.
 */
export const ATTR = {
  httpMethod: "http.request.method",
  httpRoute: "http.route",
  httpStatus: "http.response.status_code",
  model: "gen_ai.request.model",
  inputTokens: "gen_ai.usage.input_tokens",
  outputTokens: "gen_ai.usage.output_tokens",
  finishReason: "gen_ai.response.finish_reasons",
  decisionMode: "atomic.decision.mode",
  taskClass: "atomic.task_class",
  adaptationMode: "atomic.adaptation.mode",
  classification: "atomic.classification",
  redacted: "atomic.redacted",
  attempt: "atomic.attempt",
  microtasks: "atomic.microtasks",
  valid: "atomic.valid",
  errorCode: "atomic.error_code",
} as const;
