import { context, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { Resource } from "@opentelemetry/resources";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { afterEach, describe, expect, it } from "vitest";
import { ApiError } from "../../gateway/errors.js";
import { adoptSpans, handOver } from "./handover.js";
import { activeTraceparent, currentTraceId, inSpan, traceLogFields } from "./spans.js";

const exporter = new InMemorySpanExporter();

function register(): BasicTracerProvider {
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  provider.register({ contextManager: new AsyncLocalStorageContextManager().enable(), propagator: new W3CTraceContextPropagator() });
  return provider;
}

afterEach(() => {
  exporter.reset();
  trace.disable();
  context.disable();
  propagation.disable();
});

describe("with no provider registered (tracing off)", () => {
  it("runs the step as it is and knows no trace", async () => {
    expect(inSpan("sync", () => 1)).toBe(1);
    let described = false;
    await expect(inSpan("async", async () => {
      expect(currentTraceId()).toBeUndefined();
      expect(activeTraceparent()).toBeUndefined();
      expect(traceLogFields()).toEqual({});
      return 2;
    }, () => ((described = true), {}))).resolves.toBe(2);
    // Attributes are not even computed for a span that records nothing.
    expect(described).toBe(false);
    expect(() => inSpan("throws", () => { throw new Error("x"); })).toThrow("x");
  });
});

describe("inSpan", () => {
  it("nests steps under the active span, sync and async alike, with the attributes their results give", async () => {
    register();
    const result = await inSpan("outer", async () => {
      const outer = currentTraceId();
      const inner = inSpan("inner", () => ({ tokens: 3 }), (r) => ({ tokens: r.tokens }));
      const later = await inSpan("later", async () => activeTraceparent());
      expect(later).toMatch(new RegExp(`^00-${outer}-[0-9a-f]{16}-01$`));
      return inner.tokens;
    });
    expect(result).toBe(3);
    const spans = exporter.getFinishedSpans();
    const outer = spans.find((s) => s.name === "outer")!;
    expect(spans.filter((s) => s.name !== "outer").map((s) => [s.name, s.parentSpanId])).toEqual([["inner", outer.spanContext().spanId], ["later", outer.spanContext().spanId]]);
    expect(spans.find((s) => s.name === "inner")!.attributes).toEqual({ tokens: 3 });
  });

  it("marks a failed step with its error's code, never its message", async () => {
    register();
    await expect(inSpan("select", async () => {
      throw new ApiError(404, "invalid_request_error", "model_not_found", "model maria@example.org does not exist", "model");
    })).rejects.toThrow(ApiError);
    expect(() => inSpan("ingest", () => { throw new TypeError("secret text"); })).toThrow(TypeError);
    const [select, ingest] = exporter.getFinishedSpans();
    expect(select!.status).toEqual({ code: 2, message: "model_not_found" });
    expect(select!.attributes).toEqual({ "atomic.error_code": "model_not_found" });
    expect(ingest!.status).toEqual({ code: 2, message: "TypeError" });
    expect(JSON.stringify([select!.events, ingest!.events])).not.toContain("secret");
  });
});

describe("handing spans over from another process", () => {
  it("exports a model host's span as the gateway's, under the gateway's resource and in its trace", () => {
    const host = new InMemorySpanExporter();
    const hostProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(host)] });
    const parent = trace.setSpanContext(context.active(), { traceId: "a".repeat(32), spanId: "b".repeat(16), traceFlags: 1, isRemote: true });
    hostProvider.getTracer("atomic-model-host").startSpan("llama.generate", { attributes: { n: 1 } }, parent).end();
    // Across IPC with the advanced serialization: a structured clone.
    const handed = structuredClone(host.getFinishedSpans().map(handOver));

    const resource = new Resource({ "service.name": "gateway" });
    adoptSpans({ spans: { processor: new SimpleSpanProcessor(exporter), resource }, flush: async () => undefined, shutdown: async () => undefined }, handed);
    const [span] = exporter.getFinishedSpans();
    expect(span!.spanContext()).toMatchObject({ traceId: "a".repeat(32) });
    expect(span).toMatchObject({ name: "llama.generate", parentSpanId: "b".repeat(16), attributes: { n: 1 }, resource });
  });
});
