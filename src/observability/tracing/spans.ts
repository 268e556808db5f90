import { isSpanContextValid, propagation, context, SpanStatusCode, trace, type Attributes, type Span } from "@opentelemetry/api";
import { ATTR, TRACER_NAME } from "./interface.js";

/**
 * Runs `fn` in a span that is a child of the active one and active while `fn` runs, sync or async alike; `describe`
 * reads attributes off the result (only for a recording span). A failure marks the span with its error's code,
 * never its message, which may quote the request.
 */
export function inSpan<T>(name: string, fn: () => T, describe?: (result: Awaited<T>) => Attributes): T {
  // Asked for on each call: a tracer kept from an earlier provider would outlive its shutdown (tests start several).
  return trace.getTracer(TRACER_NAME).startActiveSpan(name, (span) => {
    let result: T;
    try {
      result = fn();
    } catch (error) {
      failed(span, error);
      throw error;
    }
    if (!isPromiseLike(result)) {
      succeeded(span, result as Awaited<T>, describe);
      return result;
    }
    return result.then(
      (value) => {
        succeeded(span, value as Awaited<T>, describe);
        return value;
      },
      (error: unknown) => {
        failed(span, error);
        throw error;
      },
    ) as T;
  });
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === "function";
}

function succeeded<T>(span: Span, result: T, describe: ((result: T) => Attributes) | undefined): void {
  if (describe !== undefined && span.isRecording()) span.setAttributes(describe(result));
  span.end();
}

/** Marks a span failed with its error's stable code (ApiError, InferenceError), else the error's class name. */
export function failed(span: Span, error: unknown): void {
  const code = errorCode(error);
  span.setAttribute(ATTR.errorCode, code);
  span.setStatus({ code: SpanStatusCode.ERROR, message: code });
  span.end();
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && /^[a-z0-9_]{1,64}$/.test(code)) return code;
  return error instanceof Error ? error.name : "error";
}

/** The active span's trace id; undefined where nothing is traced (tracing off, or outside any span). */
export function currentTraceId(): string | undefined {
  const spanContext = trace.getActiveSpan()?.spanContext();
  return spanContext !== undefined && isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
}

/** trace_id and span_id of the active span, as OpenTelemetry's log correlation names them; {} when none. */
export function traceLogFields(): { trace_id?: string; span_id?: string } {
  const spanContext = trace.getActiveSpan()?.spanContext();
  return spanContext !== undefined && isSpanContextValid(spanContext) ? { trace_id: spanContext.traceId, span_id: spanContext.spanId } : {};
}

/** The W3C `traceparent` of the active span, for a message to another process; undefined when tracing is off. */
export function activeTraceparent(): string | undefined {
  const carrier: { traceparent?: string } = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}
