import { describe, expect, it } from "vitest";
import { labelValues, parseExposition, sampleSum } from "../../../test/support/exposition.js";
import { NO_TENANT, OTHER } from "./labels.js";
import { PrometheusMetrics } from "./prometheus.js";

const request = { method: "GET", route: "/v1/models", status: 200, tenant: "acme", seconds: 0.002, errorCode: undefined };
const scrape = async (metrics: PrometheusMetrics) => parseExposition((await metrics.scrape()).body);

describe("PrometheusMetrics", () => {
  it("keeps configured tenants, labels a bounded number of others, and counts the rest as (other)", async () => {
    const metrics = new PrometheusMetrics({ tenants: ["ward-7"], otherTenants: 2, processMetrics: false });
    for (const tenant of ["a", "b", "c", "d", "ward-7", "a", undefined]) metrics.httpRequest({ ...request, tenant });
    const samples = await scrape(metrics);
    expect(labelValues(samples, "atomic_http_requests_total", "tenant")).toEqual(new Set(["ward-7", "a", "b", OTHER, NO_TENANT]));
    expect(sampleSum(samples, "atomic_http_requests_total", { tenant: "a" })).toBe(2);
    expect(sampleSum(samples, "atomic_http_requests_total", { tenant: OTHER })).toBe(2);
  });

  it("counts a method no route serves as OTHER, and error answers by status and code", async () => {
    const metrics = new PrometheusMetrics({ processMetrics: false });
    metrics.httpRequest({ ...request, method: "PROPFIND", status: 404, errorCode: "route_not_found" });
    const samples = await scrape(metrics);
    expect(labelValues(samples, "atomic_http_requests_total", "method")).toEqual(new Set(["OTHER"]));
    expect(sampleSum(samples, "atomic_http_errors_total", { status: "404", code: "route_not_found" })).toBe(1);
    expect(sampleSum(samples, "atomic_http_request_duration_seconds_count", { route: "/v1/models" })).toBe(1);
  });

  it("counts tokens of every execution, and timings and tokens per second of succeeded ones", async () => {
    const metrics = new PrometheusMetrics({ processMetrics: false });
    const execution = { endpoint: "chat.completions", model: "m", promptTokens: 10, completionTokens: 40, queueSeconds: 0.01, inferenceSeconds: 2 };
    metrics.execution({ ...execution, outcome: "succeeded" });
    metrics.execution({ ...execution, outcome: "model_overloaded" });
    const samples = await scrape(metrics);
    expect(sampleSum(samples, "atomic_model_tokens_total", { model: "m", type: "completion" })).toBe(80);
    expect(sampleSum(samples, "atomic_model_generation_tokens_per_second_count", { model: "m" })).toBe(1);
    expect(sampleSum(samples, "atomic_model_generation_tokens_per_second_sum", { model: "m" })).toBe(20);
    expect(sampleSum(samples, "atomic_executions_total", { outcome: "model_overloaded" })).toBe(1);
    expect(sampleSum(samples, "atomic_model_queue_wait_seconds_count", { model: "m" })).toBe(1);
  });

  it("reads sources at scrape time, once per scrape, and shows no value for a source that fails", async () => {
    const errors: string[] = [];
    const metrics = new PrometheusMetrics({ processMetrics: false, onSourceError: (source) => errors.push(source) });
    let models = [{ id: "m", state: "ready", queued: 3, inFlight: 1 }];
    let auditReads = 0;
    let auditFails = false;
    metrics.watch({
      models: () => models,
      audit: async () => {
        auditReads++;
        if (auditFails) throw new Error("database down");
        return { queued: 5, oldestQueuedSeconds: 0.2, checkpointSize: 42, checkpointAgeSeconds: null };
      },
      auditLeader: () => true,
    });
    let samples = await scrape(metrics);
    expect(sampleSum(samples, "atomic_model_queue_depth", { model: "m" })).toBe(3);
    expect(sampleSum(samples, "atomic_model_state", { model: "m", state: "ready" })).toBe(1);
    expect(sampleSum(samples, "atomic_audit_checkpoint_size")).toBe(42);
    expect(sampleSum(samples, "atomic_audit_checkpoint_age_seconds")).toBeNaN();
    expect(sampleSum(samples, "atomic_audit_sequencer_leader")).toBe(1);
    expect(auditReads).toBe(1);

    models = [];
    auditFails = true;
    samples = await scrape(metrics);
    expect(samples.some((s) => s.name.startsWith("atomic_model_") && s.name.endsWith("_depth"))).toBe(false);
    expect(sampleSum(samples, "atomic_audit_queue_lag_seconds")).toBeNaN();
    expect(errors).toEqual(["audit"]);
  });

  it("writes the exposition prom-client writes, escapes included", async () => {
    const metrics = new PrometheusMetrics();
    metrics.httpRequest({ ...request, route: 'a"b\\c\nd' });
    metrics.execution({ endpoint: "embeddings", model: "m", outcome: "succeeded", promptTokens: 3, completionTokens: 0, queueSeconds: 0, inferenceSeconds: 0.5 });
    metrics.watch({ audit: async () => { throw new Error("down"); } });
    const key = (s: { name: string; labels: Record<string, string>; value: number }) =>
      `${s.name}${JSON.stringify(Object.entries(s.labels).sort())}=${s.value}`;
    const ours = parseExposition((await metrics.scrape()).body).map(key).sort();
    const theirs = parseExposition(await metrics.registry.metrics()).map(key).sort();
    // Process metrics move between the two scrapes; everything of the gateway's own is the same.
    const own = (lines: string[]) => lines.filter((line) => line.startsWith("atomic_"));
    expect(own(ours)).toEqual(own(theirs));
    expect(own(ours).length).toBeGreaterThan(30);
    expect(ours.some((line) => line.includes('a\\"b'))).toBe(true);
  });

  it("caps the policy ids it labels denials with", async () => {
    const metrics = new PrometheusMetrics({ processMetrics: false });
    for (let i = 0; i < 80; i++) metrics.policyDecision("deny", [`policy-${i}`]);
    const samples = await scrape(metrics);
    expect(labelValues(samples, "atomic_policy_denials_total", "reason").size).toBe(51);
    expect(sampleSum(samples, "atomic_policy_decisions_total", { outcome: "deny" })).toBe(80);
  });
});
