import type { SpanContext } from "@opentelemetry/api";
import type { Resource } from "@opentelemetry/resources";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import type { Tracing } from "./interface.js";

/**
 * A finished span as it crosses to another process (a model host's span, sent to its gateway over IPC): plain data,
 * its trace state left behind (Atomic sets none, and a TraceState loses its methods on the way). The gateway exports
 * it under its own resource, as Temporal's interceptors do with the spans of the workflow sandbox.
 */
export type HandedSpan = Omit<ReadableSpan, "spanContext" | "resource"> & { spanContext: Omit<SpanContext, "traceState"> };

export function handOver(span: ReadableSpan): HandedSpan {
  const { traceState: _traceState, ...spanContext } = span.spanContext();
  return {
    name: span.name,
    kind: span.kind,
    spanContext,
    ...(span.parentSpanId === undefined ? {} : { parentSpanId: span.parentSpanId }),
    startTime: span.startTime,
    endTime: span.endTime,
    status: span.status,
    attributes: span.attributes,
    links: span.links,
    events: span.events,
    duration: span.duration,
    ended: span.ended,
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount,
    instrumentationLibrary: span.instrumentationLibrary,
  };
}

function takeOver(span: HandedSpan, resource: Resource): ReadableSpan {
  const { spanContext, ...rest } = span;
  return { ...rest, spanContext: () => spanContext, resource };
}

/** Exports spans another process made, as if made here; dropped when tracing is off here. */
export function adoptSpans(tracing: Tracing, spans: readonly HandedSpan[]): void {
  const target = tracing.spans;
  if (target === null) return;
  for (const span of spans) target.processor.onEnd(takeOver(span, target.resource));
}
