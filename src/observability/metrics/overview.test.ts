import { describe, expect, it } from "vitest";
import { histogramQuantile, OverviewWindow } from "./overview.js";
import { PrometheusMetrics } from "./prometheus.js";

const request = (metrics: PrometheusMetrics, route: string, status: number, seconds: number) =>
  metrics.httpRequest({ method: "POST", route, status, tenant: "default", seconds, errorCode: status >= 400 ? "rate_limited" : undefined });

describe("histogramQuantile", () => {
  it("interpolates within the bucket the rank falls in, as Prometheus does", () => {
    const buckets: Array<[number, number]> = [[0.1, 50], [0.5, 90], [1, 100], [Infinity, 100]];
    expect(histogramQuantile(0.5, buckets)).toBeCloseTo(0.1);
    expect(histogramQuantile(0.7, buckets)).toBeCloseTo(0.3);
    expect(histogramQuantile(0.25, buckets)).toBeCloseTo(0.05);
    expect(histogramQuantile(0.99, [[1, 1], [Infinity, 10]])).toBe(1);
    expect(histogramQuantile(0.5, [[1, 0], [Infinity, 0]])).toBeNull();
  });
});

describe("OverviewWindow", () => {
  it("answers rates since the start until a window has passed, then over the last window only", async () => {
    let now = 0;
    const metrics = new PrometheusMetrics({ processMetrics: false });
    const window = new OverviewWindow({ windowMs: 60_000, sampleEveryMs: 5_000, now: () => now });
    for (let i = 0; i < 10; i++) request(metrics, "/v1/chat/completions", 200, 0.02);
    request(metrics, "/v1/chat/completions", 429, 0.001);
    // The operators' own routes are not the traffic they watch.
    request(metrics, "/v1/admin/overview", 200, 0.5);
    request(metrics, "/ui/:file", 200, 0.5);
    metrics.execution({ endpoint: "chat.completions", model: "tiny", outcome: "succeeded", promptTokens: 10, completionTokens: 40, queueSeconds: 0.002, inferenceSeconds: 0.5 });
    metrics.execution({ endpoint: "chat.completions", model: "tiny", outcome: "model_overloaded", promptTokens: 0, completionTokens: 0, queueSeconds: 0, inferenceSeconds: 0 });
    metrics.policyDecision("deny", ["clearance"]);

    now = 10_000;
    const first = window.observe((await metrics.snapshot())!);
    expect(first.window_seconds).toBe(10);
    expect(first.traffic).toMatchObject({ requests: 11, requests_per_second: 1.1, errors: 1, error_share: 0.0909 });
    expect(first.traffic.latency_seconds.p50).toBeGreaterThan(0.01);
    expect(first.traffic.latency_seconds.p50).toBeLessThanOrEqual(0.025);
    expect(first.errors).toEqual([{ status: 429, code: "rate_limited", count: 1 }]);
    expect(first.models).toEqual([expect.objectContaining({ id: "tiny", executions: 2, failures: 1, completion_tokens: 40, tokens_per_second: 4 })]);
    expect(first.policy).toEqual({ send: 0, redact: 0, deny: 1, denials: [{ reason: "clearance", count: 1 }] });

    // A minute and more later, what happened before the window has left it.
    now = 80_000;
    for (let i = 0; i < 6; i++) request(metrics, "/v1/embeddings", 200, 2);
    const later = window.observe((await metrics.snapshot())!);
    expect(later.window_seconds).toBe(70);
    expect(later.traffic).toMatchObject({ requests: 6, errors: 0, error_share: 0 });
    expect(later.traffic.latency_seconds.p50).toBeGreaterThan(1);
    expect(later.errors).toEqual([]);
    expect(later.models[0]).toMatchObject({ executions: 0, tokens_per_second: 0 });
  });
});
