import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigSchema } from "../../src/config/schema.js";
import { NO_TENANT, OTHER } from "../../src/observability/metrics/labels.js";
import { labelValues, parseExposition, sampleSum, type ExpositionSample } from "../support/exposition.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeTestModels } from "../support/models.js";
import { sharedTemporal } from "../support/temporal.js";

/** GET /metrics on a real gateway: who may scrape, what moves after real requests, and that labels stay bounded. */
let gw: TestGateway;
let metricsKey: string;
let wardKey: string;

const CONFIGURED_TENANT = "ward-configured";

beforeAll(async () => {
  gw = await startTestGateway({
    models: writeTestModels([{ id: "tiny" }]),
    // A tenant the configuration names keeps its own label, however many others call.
    limits: { tenants: { [CONFIGURED_TENANT]: {} } },
    metrics: { otherTenants: 2 },
  });
  metricsKey = await gw.issueKey("ops", ["metrics:read"]);
  wardKey = await gw.issueKey(CONFIGURED_TENANT, ["infer"]);
});
afterAll(async () => gw?.close());

const as = (key: string) => ({ authorization: `Bearer ${key}` });

async function scrape(): Promise<ExpositionSample[]> {
  const response = await gw.fetch("/metrics", { headers: as(metricsKey) });
  expect(response.status).toBe(200);
  return parseExposition(await response.text());
}

/** How much each named series grew across `action`. */
async function deltas(action: () => Promise<void>, series: Record<string, [string, Record<string, string>]>): Promise<Record<string, number>> {
  const before = await scrape();
  await action();
  const after = await scrape();
  return Object.fromEntries(Object.entries(series).map(([key, [name, labels]]) => [key, sampleSum(after, name, labels) - sampleSum(before, name, labels)]));
}

const chat = (content: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  gw.post("/v1/chat/completions", { model: "tiny", messages: [{ role: "user", content }], max_tokens: 4, ...extra }, { ...as(wardKey), ...headers });

describe("who may scrape", () => {
  it("refuses a caller without credentials or without metrics:read, as JSON with a stable code", async () => {
    const anonymous = await fetch(`${gw.url}/metrics`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toBe('Bearer realm="atomic"');
    expect((await anonymous.json()).error).toMatchObject({ type: "authentication_error", code: "authentication_required" });

    const withoutScope = await gw.fetch("/metrics", { headers: as(wardKey) });
    expect(withoutScope.status).toBe(403);
    expect((await withoutScope.json()).error).toMatchObject({ type: "permission_error", code: "insufficient_scope" });
  });

  it("serves the Prometheus text format to metrics:read and to admin", async () => {
    for (const headers of [as(metricsKey), {}]) {
      const response = await gw.fetch("/metrics", { headers });
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
      const body = await response.text();
      expect(body).toContain("# TYPE atomic_http_requests_total counter");
      expect(body).toContain("# TYPE atomic_http_request_duration_seconds histogram");
      expect(parseExposition(body).length).toBeGreaterThan(0);
    }
  });
});

describe("what moves", () => {
  it("counts a chat completion: the request, its execution, tokens, queue wait, policy and adaptation", async () => {
    let usage = { prompt_tokens: 0, completion_tokens: 0 };
    const moved = await deltas(async () => {
      const response = await chat("hello there");
      expect(response.status).toBe(200);
      usage = (await response.json()).usage;
    }, {
      requests: ["atomic_http_requests_total", { method: "POST", route: "/v1/chat/completions", status: "200", tenant: CONFIGURED_TENANT }],
      timed: ["atomic_http_request_duration_seconds_count", { method: "POST", route: "/v1/chat/completions" }],
      executions: ["atomic_executions_total", { endpoint: "chat.completions", model: "tiny", outcome: "succeeded" }],
      promptTokens: ["atomic_model_tokens_total", { model: "tiny", type: "prompt" }],
      completionTokens: ["atomic_model_tokens_total", { model: "tiny", type: "completion" }],
      queueWaits: ["atomic_model_queue_wait_seconds_count", { model: "tiny" }],
      inferences: ["atomic_model_inference_duration_seconds_count", { model: "tiny" }],
      sent: ["atomic_policy_decisions_total", { outcome: "send" }],
      adapted: ["atomic_adaptation_generations_total", {}],
    });
    expect(moved).toEqual({
      requests: 1, timed: 1, executions: 1, promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens,
      queueWaits: 1, inferences: 1, sent: 1, adapted: 1,
    });
    expect(usage.completion_tokens).toBeGreaterThan(0);
  });

  it("reads model hosts and the audit log when scraped", async () => {
    const samples = await scrape();
    expect(sampleSum(samples, "atomic_model_state", { model: "tiny", state: "ready" })).toBe(1);
    expect(sampleSum(samples, "atomic_model_queue_depth", { model: "tiny" })).toBe(0);
    expect(sampleSum(samples, "atomic_model_in_flight", { model: "tiny" })).toBe(0);
    // The only gateway on its database leads its audit sequencer, and has signed checkpoints by now.
    expect(sampleSum(samples, "atomic_audit_sequencer_leader")).toBe(1);
    expect(sampleSum(samples, "atomic_audit_checkpoint_size")).toBeGreaterThan(0);
    expect(sampleSum(samples, "atomic_audit_checkpoint_age_seconds")).toBeGreaterThanOrEqual(0);
    expect(sampleSum(samples, "atomic_audit_queue_lag_seconds")).toBeGreaterThanOrEqual(0);
    expect(sampleSum(samples, "atomic_audit_queue_events")).toBeGreaterThanOrEqual(0);
    // Node.js process metrics come along under their usual names.
    expect(samples.some((s) => s.name === "process_cpu_user_seconds_total")).toBe(true);
  });

  it("counts the winner of bidding and whether it explored", async () => {
    const before = await scrape();
    const response = await chat("pick one", { model: "auto" });
    expect(response.status).toBe(200);
    const routing = response.headers.get("x-atomic-routing")!;
    expect(["explore", "exploit"]).toContain(routing);
    const after = await scrape();
    const series = { model: "tiny", mode: routing };
    expect(sampleSum(after, "atomic_bidding_decisions_total", series) - sampleSum(before, "atomic_bidding_decisions_total", series)).toBe(1);
  });

  it("counts a policy denial by the policy that denied, and redactions by PII kind", async () => {
    const moved = await deltas(async () => {
      // The generated model is cleared for internal data (policies/entities.json): secret data is refused.
      const denied = await chat("the launch codes", {}, { "x-atomic-data-classification": "secret" });
      expect(denied.status).toBe(403);
      expect((await denied.json()).error.code).toBe("policy_denied");
      // … and it is not cleared for raw PII: the address reaches it as a placeholder.
      expect((await chat("write to jane.doe@example.org or john@example.org")).status).toBe(200);
    }, {
      denied: ["atomic_policy_decisions_total", { outcome: "deny" }],
      byClearance: ["atomic_policy_denials_total", { reason: "clearance" }],
      refusals: ["atomic_http_errors_total", { status: "403", code: "policy_denied" }],
      redacted: ["atomic_policy_decisions_total", { outcome: "redact" }],
      emails: ["atomic_pii_redactions_total", { kind: "email" }],
    });
    expect(moved).toEqual({ denied: 1, byClearance: 1, refusals: 1, redacted: 1, emails: 2 });
  });
});

describe("labels stay bounded", () => {
  it("names route patterns, never the paths callers send", async () => {
    const ids = Array.from({ length: 30 }, () => randomUUID());
    for (const id of ids) {
      expect((await gw.fetch(`/nowhere/${id}`)).status).toBe(404);
      expect((await gw.fetch(`/v1/executions/${id}`)).status).toBe(404);
    }
    const body = await (await gw.fetch("/metrics", { headers: as(metricsKey) })).text();
    for (const id of ids) expect(body).not.toContain(id);
    const samples = parseExposition(body);
    expect(sampleSum(samples, "atomic_http_requests_total", { route: "(unmatched)", status: "404" })).toBeGreaterThanOrEqual(30);
    expect(sampleSum(samples, "atomic_http_requests_total", { route: "/v1/executions/:id", status: "404" })).toBeGreaterThanOrEqual(30);
    for (const route of labelValues(samples, "atomic_http_requests_total", "route")) expect(route).toMatch(/^(\/[a-z0-9/:._-]*|\(unmatched\))$/);
  });

  it("labels configured tenants, a bounded number of others, and the rest as (other)", async () => {
    for (let i = 0; i < 5; i++) {
      const key = await gw.issueKey(`tenant-${i}`, ["infer"]);
      expect((await gw.fetch("/v1/models", { headers: as(key) })).status).toBe(200);
    }
    expect((await gw.fetch("/v1/models", { headers: as(wardKey) })).status).toBe(200);
    const tenants = labelValues(await scrape(), "atomic_http_requests_total", "tenant");
    expect(tenants).toContain(CONFIGURED_TENANT);
    expect(tenants).toContain(OTHER);
    const others = [...tenants].filter((tenant) => ![CONFIGURED_TENANT, OTHER, NO_TENANT].includes(tenant));
    expect(others.length).toBeLessThanOrEqual(2);
  });
});

describe("a listener of its own", () => {
  let separate: TestGateway;
  beforeAll(async () => {
    separate = await startTestGateway({ models: writeTestModels([{ id: "tiny" }]), metrics: { listener: { port: 0 } } });
  });
  afterAll(async () => separate?.close());

  it("serves /metrics on loopback without credentials, and the gateway's listener no longer does", async () => {
    const url = separate.gateway.metricsUrl!;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const response = await fetch(`${url}/metrics`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("# TYPE atomic_model_state gauge");
    const elsewhere = await fetch(`${url}/v1/models`);
    expect(elsewhere.status).toBe(404);
    expect((await elsewhere.json()).error.code).toBe("route_not_found");

    const main = await separate.fetch("/metrics");
    expect(main.status).toBe(404);
    expect((await main.json()).error.code).toBe("route_not_found");
  });

  it("is refused on an address other hosts can reach", () => {
    const parsed = ConfigSchema.safeParse({ metrics: { listener: { host: "0.0.0.0", port: 9464 } } });
    expect(parsed.success).toBe(false);
    expect(ConfigSchema.parse({ metrics: { listener: { port: 9464 } } }).metrics.listener).toEqual({ host: "127.0.0.1", port: 9464 });
  });
});

describe("asynchronous tasks and webhooks", () => {
  let orchestrated: TestGateway;
  let closeReceiver: () => Promise<void>;
  let receiverOrigin: string;
  beforeAll(async () => {
    const receiver = createServer((request, response) => request.resume().on("end", () => response.writeHead(204).end()));
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    receiverOrigin = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    closeReceiver = () => new Promise((resolve) => receiver.close(() => resolve()));
    const { address, namespace } = sharedTemporal("atomic-test-metrics");
    orchestrated = await startTestGateway({
      models: writeTestModels([{ id: "tiny" }]),
      temporal: { address, namespace, hostId: "gateway-metrics-test" },
      webhooks: { allow: [receiverOrigin] },
    });
  });
  afterAll(async () => {
    await orchestrated?.close();
    await closeReceiver?.();
  });

  it("counts webhook deliveries, and tasks by their Temporal status", async () => {
    const submitted = await orchestrated.post("/v1/tasks", { input: "Say hello.", mode: "async", max_tokens: 4, webhook: { url: `${receiverOrigin}/hook` } });
    expect(submitted.status).toBe(202);
    const { id } = (await submitted.json()) as { id: string };
    let task: { status: string; webhook?: unknown };
    do {
      await new Promise((resolve) => setTimeout(resolve, 100));
      task = await (await orchestrated.fetch(`/v1/tasks/${id}`)).json();
    } while (task.status === "running" || task.webhook === undefined || (typeof task.webhook === "object" && task.webhook !== null && "pending" in task.webhook));
    expect(task).toMatchObject({ status: "succeeded", webhook: { delivered: true } });

    const samples = parseExposition(await (await orchestrated.fetch("/metrics")).text());
    expect(sampleSum(samples, "atomic_webhook_deliveries_total", { outcome: "succeeded" })).toBe(1);
    // The microtask ran on this gateway's own worker, and was counted there as a tasks execution.
    expect(sampleSum(samples, "atomic_executions_total", { endpoint: "tasks", model: "tiny", outcome: "succeeded" })).toBe(1);
    const states = labelValues(samples, "atomic_tasks", "state");
    expect([...states].every((state) => ["Running", "Completed"].includes(state))).toBe(true);
    expect(sampleSum(samples, "atomic_tasks")).toBe(1);
  });
});
