/**
 * The workflow half of Temporal's OpenTelemetry interceptors, loaded only in a workflow whose start carried a trace.
 * Evaluating the OpenTelemetry modules and opening the workflow's spans cost every workflow several milliseconds of
 * its first workflow task (the sandbox evaluates a workflow's modules afresh for each workflow): an untraced task —
 * every task when tracing is off — paid them for spans that were then dropped.
 *
 * The start's headers decide, when the workflow begins to execute: a start made with tracing on carries the trace
 * header. Until then (and for an untraced workflow, always) each interceptor method passes straight to the next.
 * Replay is unaffected either way: the interceptors add headers and sink calls, never commands.
 */
import type { WorkflowInboundCallsInterceptor, WorkflowInterceptors, WorkflowOutboundCallsInterceptor, WorkflowInternalsInterceptor } from "@temporalio/workflow";

/** The header Temporal's OpenTelemetry client interceptor writes the caller's trace context to. */
const TRACE_HEADER = "_tracer-data";

type Method = (input: unknown, next: (input: unknown) => unknown) => unknown;
type Traced = Required<Pick<WorkflowInterceptors, "inbound" | "outbound" | "internals">>;

export function interceptors(): WorkflowInterceptors {
  let traced: Traced | null = null;
  const begin = (headers: Record<string, unknown>): void => {
    if (traced !== null || !(TRACE_HEADER in headers)) return;
    // A require, not an import: the bundle evaluates the module only when this line runs.
    const otel = require("@temporalio/interceptors-opentelemetry/lib/workflow-interceptors") as { interceptors: () => WorkflowInterceptors };
    const made = otel.interceptors();
    traced = { inbound: made.inbound ?? [], outbound: made.outbound ?? [], internals: made.internals ?? [] };
  };
  const delegate = <T extends object>(kind: keyof Traced, index: number, before?: (method: string, input: unknown) => void): T =>
    new Proxy({} as T, {
      get: (_target, method) => {
        if (typeof method !== "string") return undefined;
        const call: Method = (input, next) => {
          before?.(method, input);
          const interceptor = traced?.[kind][index] as Record<string, Method | undefined> | undefined;
          const own = interceptor?.[method];
          return own ? own.call(interceptor, input, next) : next(input);
        };
        return call;
      },
    });
  // The OpenTelemetry factory makes one interceptor of each kind.
  return {
    inbound: [delegate<WorkflowInboundCallsInterceptor>("inbound", 0, (method, input) => {
      if (method === "execute") begin((input as { headers: Record<string, unknown> }).headers);
    })],
    outbound: [delegate<WorkflowOutboundCallsInterceptor>("outbound", 0)],
    internals: [delegate<WorkflowInternalsInterceptor>("internals", 0)],
  };
}
