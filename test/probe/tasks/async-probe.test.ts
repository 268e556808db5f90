import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEvents } from "../../support/audit-events.js";
import { queryOnce } from "../../support/database.js";
import { startTestGateway, type TestGateway } from "../../support/gateway.js";
import { writeTestModels } from "../../support/models.js";
import { sharedTemporal } from "../../support/temporal.js";
import { until } from "../../support/until.js";

/** A loopback webhook receiver: /ok 204, /fail 500, /hang never answers. */
interface Receiver {
  origin: string;
  port: number;
  received: Array<{ url: string; headers: IncomingHttpHeaders; body: Buffer }>;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const received: Receiver["received"] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      received.push({ url: request.url ?? "", headers: request.headers, body: Buffer.concat(chunks) });
      if (request.url?.startsWith("/hang")) return; // never answers
      response.writeHead(request.url?.startsWith("/fail") ? 500 : 204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    received,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

let gw: TestGateway;
let receiver: Receiver;

beforeAll(async () => {
  receiver = await startReceiver();
  const { address, namespace } = sharedTemporal("atomic-test-gateway");
  gw = await startTestGateway({
    models: writeTestModels([{ id: "small" }, { id: "large", options: { seed: 2 } }]),
    temporal: { address, namespace, hostId: "probe-tasks" },
    webhooks: { allow: [receiver.origin], maxAttempts: 2 },
  });
});
afterAll(async () => {
  await gw?.close();
  await receiver?.close();
});

type Task = { id: string; status: string; result?: unknown; error?: unknown; progress?: { status: string } | null; microtasks?: Array<Record<string, unknown>>; webhook?: unknown };

async function task(id: string): Promise<Task> {
  const response = await gw.fetch(`/v1/tasks/${id}`);
  expect(response.status).toBe(200);
  return (await response.json()) as Task;
}

async function finished(id: string, ms = 60_000): Promise<Task> {
  const deadline = Date.now() + ms;
  for (;;) {
    const t = await task(id);
    if (t.status !== "running") return t;
    if (Date.now() > deadline) throw new Error(`task ${id} still running after ${ms} ms: ${JSON.stringify(t.progress)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("probe: asynchronous tasks", () => {
  it("does not hand out an erased task's result (GET /v1/tasks/:id and its events stream)", async () => {
    const secret = "Describe the Harbour Street clinic budget.";
    const submitted = await gw.post("/v1/tasks", { input: secret, model: "small", mode: "async", max_tokens: 8, seed: 1 });
    expect(submitted.status).toBe(202);
    const { id } = (await submitted.json()) as Task;
    const done = await finished(id);
    expect(done.status).toBe("succeeded");
    const resultBefore = JSON.stringify(done.result);
    expect(resultBefore.length).toBeGreaterThan(2);

    const erased = await gw.post("/v1/admin/erasure", { execution_id: id });
    expect(erased.status).toBe(200);
    const execution = (await (await gw.fetch(`/v1/executions/${id}`)).json()) as { output?: unknown; input?: unknown };
    // The database no longer holds it ...
    expect(execution.output ?? null).toBeNull();

    // ... so the task API should not serve it from Temporal's history either.
    const after = await task(id);
    const afterText = JSON.stringify(after);
    expect(after.result ?? null, "GET /v1/tasks/:id still serves the erased result").toBeNull();
    for (const m of after.microtasks ?? []) expect(m["text"] ?? null, "microtask text still served after erasure").toBeNull();
    expect(afterText).not.toContain(resultBefore.slice(1, -1));

    const events = await (await gw.fetch(`/v1/tasks/${id}/events`)).text();
    expect(events, "the events stream's done event still carries the erased result").not.toContain(resultBefore.slice(1, -1));
  });

  it("refuses at submission a webhook URL carrying userinfo (it can never be delivered)", async () => {
    const url = `http://user:s3cret@127.0.0.1:${receiver.port}/ok`;
    const submitted = await gw.post("/v1/tasks", { input: "Say hello.", model: "small", mode: "async", max_tokens: 4, webhook: { url } });
    const body = (await submitted.json()) as Task & { error?: { code: string } };
    if (submitted.status === 202) {
      const done = await finished(body.id);
      const deliveries = receiver.received.filter((r) => r.headers["x-atomic-task-id"] === body.id);
      // Accepted: then it should at least be delivered.
      expect({ webhook: done.webhook, deliveries: deliveries.length }, "accepted a userinfo webhook that never reaches the receiver").toMatchObject({ webhook: { delivered: true } });
    } else {
      expect(submitted.status).toBe(400);
    }
  });

  it("a webhook receiver that hangs does not hold a finished task's result back", async () => {
    const submitted = await gw.post("/v1/tasks", { input: "Say hello.", model: "small", mode: "async", max_tokens: 4, webhook: { url: `${receiver.origin}/hang` } });
    expect(submitted.status).toBe(202);
    const { id } = (await submitted.json()) as Task;
    // The record is written as soon as inference ends ...
    await until(async () => (await queryOnce<{ status: string }>(gw.databaseUrl, "SELECT status FROM executions WHERE id = $1", [id])).length > 0, 30_000);
    const recordedAt = Date.now();
    // ... and the result should be readable soon after.
    let t = await task(id);
    while (t.status === "running" && Date.now() - recordedAt < 30_000) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      t = await task(id);
    }
    const heldMs = Date.now() - recordedAt;
    console.log(`[probe] result held back ${heldMs} ms after the record by a hanging receiver; final ${t.status} webhook=${JSON.stringify(t.webhook)}`);
    expect(heldMs, `the recorded task stayed 'running' (progress ${JSON.stringify(t.progress)}) while its webhook hung`).toBeLessThan(3_000);
  });

  it("a cancel that arrives while the webhook is being delivered is not recorded as cancelling a task that succeeds", async () => {
    const submitted = await gw.post("/v1/tasks", { input: "Say hello.", model: "small", mode: "async", max_tokens: 4, webhook: { url: `${receiver.origin}/hang` } });
    const { id } = (await submitted.json()) as Task;
    await until(async () => (await task(id)).progress?.status === "notifying", 30_000, 100);
    const cancelled = await gw.fetch(`/v1/tasks/${id}/cancel`, { method: "POST" });
    const cancelStatus = cancelled.status;
    const done = await finished(id);
    await gw.gateway.audit.sequencer.drain();
    const cancels = (await auditEvents(gw.databaseUrl)).filter((e) => e.kind === "task.cancelled" && e.detail?.["taskId"] === id);
    console.log(`[probe] cancel during notifying: HTTP ${cancelStatus}, final status ${done.status}, webhook ${JSON.stringify(done.webhook)}, task.cancelled events ${cancels.length}`);
    // Either the cancel is refused (409: the task's outcome is settled) or the task ends cancelled; not 202 + succeeded.
    expect({ cancelStatus, final: done.status }).not.toEqual({ cancelStatus: 202, final: "succeeded" });
  });

  it("two concurrent cancels of one task: one task.cancelled event, not two", async () => {
    const hosts = ["small", "large"].map((model) => gw.gateway.engine.host(model));
    const { id } = (await (await gw.post("/v1/tasks", { input: "Write a long story about a lighthouse.", model: "small", mode: "async", max_tokens: 2000 })).json()) as Task;
    await until(() => hosts.some((host) => host.status().inFlight > 0));
    const [a, b] = await Promise.all([1, 2].map(() => gw.fetch(`/v1/tasks/${id}/cancel`, { method: "POST" })));
    const statuses = [a!.status, b!.status].sort();
    const done = await finished(id);
    expect(done.status).toBe("cancelled");
    await gw.gateway.audit.sequencer.drain();
    const cancels = (await auditEvents(gw.databaseUrl)).filter((e) => e.kind === "task.cancelled" && e.detail?.["taskId"] === id);
    console.log(`[probe] concurrent cancels: ${statuses.join(",")}; task.cancelled events: ${cancels.length}`);
    expect(cancels.length).toBe(1);
  });

  it("an oversized fan-out (schema parts × a large input) is a 4xx, not a 5xx, and leaves no decision behind", async () => {
    const properties: Record<string, unknown> = {};
    for (let i = 1; i <= 7; i++) properties[`part${i}`] = { type: "object", properties: { v: { type: "string" } }, required: ["v"] };
    properties["note"] = { type: "string" };
    const schema = { type: "object", properties, required: Object.keys(properties) };
    const input = "The ledger lists routine supplies for the ward. ".repeat(8_000); // ~390 KB, copied into each of 8 parts
    const started = Date.now();
    const response = await gw.post("/v1/tasks", { input, schema: { inline: schema }, mode: "async", max_tokens: 8 });
    const text = await response.text();
    console.log(`[probe] oversized fan-out: HTTP ${response.status} after ${Date.now() - started} ms: ${text.slice(0, 300)}; decision header ${response.headers.get("x-atomic-decision-id")}`);
    const decisions = await queryOnce<{ n: string }>(gw.databaseUrl, "SELECT count(*)::text AS n FROM information_schema.tables WHERE table_name = 'bidding_decisions'");
    if (response.status === 202) {
      const { id } = JSON.parse(text) as Task;
      const done = await finished(id, 120_000);
      console.log(`[probe] oversized fan-out ended ${done.status}`);
      return;
    }
    expect(response.status, text).toBeLessThan(500);
    const decisionId = response.headers.get("x-atomic-decision-id");
    if (decisionId !== null && decisions[0]?.n === "1") {
      const rows = await queryOnce(gw.databaseUrl, "SELECT 1 FROM bidding_decisions WHERE execution_id = $1", [decisionId]);
      expect(rows.length, "a decision is stored for a task that was never started").toBe(0);
    }
  });

  it("a task whose model is unloaded mid-run ends with a clear failure, no 5xx and no hang", async () => {
    const operator = await gw.issueKey("default", ["operator"]);
    const host = gw.gateway.engine.host("large");
    const { id } = (await (await gw.post("/v1/tasks", { input: "Write a long story about a harbour.", model: "large", mode: "async", max_tokens: 2000 })).json()) as Task;
    await until(() => host.status().inFlight > 0);
    const unload = await gw.fetch(`/v1/admin/models/large/unload?drain_timeout_ms=300`, { method: "POST", headers: { authorization: `Bearer ${operator}` } });
    console.log(`[probe] unload: HTTP ${unload.status}`);
    const done = await finished(id, 60_000);
    console.log(`[probe] task after unload: ${done.status} ${JSON.stringify(done.error)} ${JSON.stringify(done.microtasks?.map((m) => [m["status"], m["fallbacks"]]))}`);
    expect(["failed", "succeeded"]).toContain(done.status);
    const again = await gw.post("/v1/tasks", { input: "Say hi.", model: "large", mode: "async", max_tokens: 4 });
    console.log(`[probe] submit to unloaded model: HTTP ${again.status} ${await again.clone().text()}`);
    expect(again.status).toBeLessThan(500);
    if (again.status === 202) {
      const t = await finished(((await again.json()) as Task).id, 90_000);
      console.log(`[probe] task on unloaded model: ${t.status} ${JSON.stringify(t.error)}`);
    }
  });
});
