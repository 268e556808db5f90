import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { Client, Connection } from "@temporalio/client";
import { compactVerify, importJWK } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEvents } from "../support/audit-events.js";
import { queryOnce } from "../support/database.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeTestModels } from "../support/models.js";
import { sharedTemporal } from "../support/temporal.js";
import { until } from "../support/until.js";
import { EncryptionCodec, ENCRYPTED_ENCODING } from "../../src/orchestration/payload-codec.js";

/** A webhook receiver on loopback: what it was sent, and what it answers. */
interface Receiver {
  origin: string;
  received: Array<{ headers: IncomingHttpHeaders; body: Buffer }>;
  /** Deliveries under /hang, not answered until released, by task id. */
  held: Map<string, ServerResponse>;
  release(taskId: string): void;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const received: Receiver["received"] = [];
  const held: Receiver["held"] = new Map();
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks) });
      // A receiver that never answers until the test says so: any path under /hang.
      if (request.url?.startsWith("/hang")) return void held.set(String(request.headers["x-atomic-task-id"]), response);
      // A receiver that is down, for the retry test: any path under /fail answers 500.
      response.writeHead(request.url?.startsWith("/fail") ? 500 : 204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    received,
    held,
    release: (taskId) => {
      held.get(taskId)?.writeHead(204).end();
      held.delete(taskId);
    },
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

let gw: TestGateway;
let receiver: Receiver;
let otherTenantKey: string;

beforeAll(async () => {
  receiver = await startReceiver();
  const { address, namespace } = sharedTemporal("atomic-test-gateway");
  gw = await startTestGateway({
    models: writeTestModels([{ id: "small" }, { id: "large", options: { seed: 2 } }]),
    temporal: { address, namespace, hostId: "gateway-async-test" },
    webhooks: { allow: [receiver.origin], maxAttempts: 2 },
  });
  otherTenantKey = await gw.issueKey("other", ["tasks"]);
});
afterAll(async () => {
  await gw?.close();
  await receiver?.close();
});

type Task = { id: string; status: string; result?: unknown; microtasks?: Array<{ id: string; model: string; status: string }>; decision?: unknown; learning?: unknown; webhook?: unknown; links: Record<string, string> };

async function finished(id: string, key?: string): Promise<Task> {
  for (;;) {
    const response = await gw.fetch(`/v1/tasks/${id}`, key ? { headers: { authorization: `Bearer ${key}` } } : {});
    expect(response.status).toBe(200);
    const task = (await response.json()) as Task;
    if (task.status !== "running") return task;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The task once its notifications are over too: the learner told, the webhook delivered or given up. */
async function settled(id: string): Promise<Task> {
  for (;;) {
    const task = await finished(id);
    const pending = [task.learning, task.webhook].some((notification) => typeof notification === "object" && notification !== null && "pending" in notification);
    if (!pending) return task;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const ITEMS = "1. Summarise the quarterly sales figures\n2. List the open support tickets by age\n3. Draft a note to the facilities team";

describe("asynchronous tasks (POST /v1/tasks mode async)", () => {
  it("answers 202 at once, runs the bidding plan as a workflow, and returns the assembled result with its decision", async () => {
    const submitted = await gw.post("/v1/tasks", { input: ITEMS, mode: "async", max_tokens: 8, seed: 1 });
    expect(submitted.status).toBe(202);
    const body = (await submitted.json()) as Task & { microtasks: Array<{ id: string; model: string; fallback_models: string[] }> };
    expect(submitted.headers.get("location")).toBe(`/v1/tasks/${body.id}`);
    expect(submitted.headers.get("x-atomic-decision-id")).toBe(body.id);
    // The decomposer split the enumerated items into one microtask each; every one has the other model to fall back on.
    expect(body.microtasks.map((m) => m.id)).toEqual(["item-1", "item-2", "item-3"]);
    for (const m of body.microtasks) expect(m.fallback_models).toEqual([m.model === "small" ? "large" : "small"]);

    const task = await settled(body.id);
    expect(task.status).toBe("succeeded");
    expect(Array.isArray(task.result)).toBe(true);
    expect((task.result as unknown[]).length).toBe(3);
    expect(task.microtasks!.map((m) => m.status)).toEqual(["succeeded", "succeeded", "succeeded"]);
    expect(task.decision).toMatchObject({ executionId: body.id });
    // The learner was told how each microtask went.
    expect(task).toMatchObject({ learning: { recorded: 3 } });
    // The workflow wrote the task's execution record under the task's id.
    const execution = await (await gw.fetch(task.links["execution"]!)).json();
    expect(execution).toMatchObject({ id: body.id, endpoint: "tasks", status: "succeeded" });
  });

  it("streams progress as server-sent events and ends with the finished task", async () => {
    const { id } = (await (await gw.post("/v1/tasks", { input: "Name three colours.", mode: "async", max_tokens: 16 })).json()) as Task;
    const response = await gw.fetch(`/v1/tasks/${id}/events`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const text = await response.text();
    const events = [...text.matchAll(/event: (\w+)\ndata: (.*)\nid: (\d+)/g)].map(([, event, data]) => ({ event, data: JSON.parse(data!) as Task }));
    expect(events.length).toBeGreaterThan(0);
    expect(events.at(-1)!.event).toBe("done");
    expect(events.at(-1)!.data).toMatchObject({ id, status: "succeeded" });
    for (const e of events.slice(0, -1)) expect(e.event).toBe("progress");
  });

  it("records each read that hands out a task's result as content.read, and progress polls as nothing", async () => {
    const { id } = (await (await gw.post("/v1/tasks", { input: "Name three colours.", mode: "async", max_tokens: 16 })).json()) as Task;
    for (;;) {
      const response = await gw.fetch(`/v1/tasks/${id}`);
      const task = (await response.json()) as Task;
      if (task.status === "running") {
        expect(response.headers.get("x-atomic-audit-event-id")).toBeNull();
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      expect(response.headers.get("x-atomic-audit-event-id")).toMatch(/^[0-9a-f-]{36}$/);
      break;
    }
    await (await gw.fetch(`/v1/tasks/${id}/events`)).text();
    await gw.gateway.audit.sequencer.drain();
    const reads = (await auditEvents(gw.databaseUrl)).filter((event) => event.kind === "content.read" && event.detail?.["taskId"] === id);
    // The last poll and the stream's done event: two reads of the result, whatever the number of polls before.
    expect(reads.map((event) => event.request?.endpoint)).toEqual(["GET /v1/tasks/:id", "GET /v1/tasks/:id/events"]);
  });

  it("cancels a task, stopping its running inferences, and a second cancel is refused because it has ended", async () => {
    const hosts = ["small", "large"].map((model) => gw.gateway.engine.host(model));
    const { id } = (await (await gw.post("/v1/tasks", { input: ITEMS, mode: "async", max_tokens: 2000 })).json()) as Task;
    // Cancelled once its inferences run (before, the workflow may not have scheduled any, and nothing would be stopped).
    await until(() => hosts.some((host) => host.status().inFlight > 0));
    const cancelled = await gw.fetch(`/v1/tasks/${id}/cancel`, { method: "POST" });
    expect(cancelled.status).toBe(202);
    const task = await finished(id);
    expect(task.status).toBe("cancelled");
    // The inferences hear of it too and stop, recorded as aborted, rather than running on to 2,000 tokens nobody
    // waits for (they did, when a heartbeat, which carries the cancellation, came only every 10 s).
    const recorded = () => queryOnce<{ status: string; error_code: string | null }>(gw.databaseUrl,
      "SELECT status, error_code FROM executions WHERE input::jsonb->>'task' = $1", [id]);
    await until(async () => hosts.every((host) => host.status().inFlight === 0 && host.status().queued === 0) && (await recorded()).length > 0);
    const executions = await recorded();
    expect(executions.length).toBeGreaterThan(0);
    for (const execution of executions) expect(execution).toMatchObject({ status: "failed", error_code: "request_aborted" });
    const again = await gw.fetch(`/v1/tasks/${id}/cancel`, { method: "POST" });
    expect(again.status).toBe(409);
    expect((await again.json()).error.code).toBe("task_not_running");
    // Who stopped it is in the log, once: the refused second cancel changed nothing and records nothing.
    await gw.gateway.audit.sequencer.drain();
    const cancels = (await auditEvents(gw.databaseUrl)).filter((event) => event.kind === "task.cancelled" && event.detail?.["taskId"] === id);
    expect(cancels).toEqual([expect.objectContaining({ actor: expect.objectContaining({ tenant: "default" }), request: expect.objectContaining({ endpoint: "POST /v1/tasks/:id/cancel" }) })]);
  });

  it("answers concurrent cancels of a running task alike, and audits the one cancellation once", async () => {
    const hosts = ["small", "large"].map((model) => gw.gateway.engine.host(model));
    const { id } = (await (await gw.post("/v1/tasks", { input: ITEMS, mode: "async", max_tokens: 2000 })).json()) as Task;
    await until(() => hosts.some((host) => host.status().inFlight > 0));
    const answers = await Promise.all([1, 2, 3].map(() => gw.fetch(`/v1/tasks/${id}/cancel`, { method: "POST" })));
    expect(answers.map((answer) => answer.status)).toEqual([202, 202, 202]);
    for (const answer of answers) expect(await answer.json()).toMatchObject({ id, status: "cancelling" });
    expect((await finished(id)).status).toBe("cancelled");
    await until(() => hosts.every((host) => host.status().inFlight === 0 && host.status().queued === 0));
    // One cancellation, one event: the workflow accepted one of the three, and told the others it was cancelling.
    await gw.gateway.audit.sequencer.drain();
    const cancels = (await auditEvents(gw.databaseUrl)).filter((event) => event.kind === "task.cancelled" && event.detail?.["taskId"] === id);
    expect(cancels).toHaveLength(1);
  });

  it("serves a task's result as final while its webhook receiver hangs, and refuses to cancel it then", async () => {
    const { id } = (await (await gw.post("/v1/tasks", { input: "Say hello.", mode: "async", max_tokens: 4, webhook: { url: `${receiver.origin}/hang` } })).json()) as Task;
    // The delivery has reached the receiver, which does not answer: the task's workflow waits on it.
    await until(() => receiver.held.has(id));
    const response = await gw.fetch(`/v1/tasks/${id}`);
    const task = (await response.json()) as Task;
    expect(task).toMatchObject({ status: "succeeded", webhook: { pending: true } });
    expect(typeof task.result).toBe("string");
    expect((await (await gw.fetch(`/v1/executions/${id}`)).json()).output).toEqual(task.result);
    // Handing out the result, this read is audited as any read of a finished task's result is.
    expect(response.headers.get("x-atomic-audit-event-id")).toMatch(/^[0-9a-f-]{36}$/);
    // The event stream ends with the finished task at once, rather than waiting on the receiver.
    const stream = await (await gw.fetch(`/v1/tasks/${id}/events`)).text();
    const last = [...stream.matchAll(/event: (\w+)\ndata: (.*)\n/g)].at(-1)!;
    expect(last[1]).toBe("done");
    expect(JSON.parse(last[2]!)).toMatchObject({ id, status: "succeeded", result: task.result, webhook: { pending: true } });
    // Its result is final: a cancel now is refused, and stops nothing.
    const cancel = await gw.fetch(`/v1/tasks/${id}/cancel`, { method: "POST" });
    expect(cancel.status).toBe(409);
    expect((await cancel.json()).error.code).toBe("task_not_running");

    receiver.release(id);
    expect(await settled(id)).toMatchObject({ status: "succeeded", result: task.result, webhook: { delivered: true, attempts: 1 } });
    await gw.gateway.audit.sequencer.drain();
    expect((await auditEvents(gw.databaseUrl)).filter((event) => event.kind === "task.cancelled" && event.detail?.["taskId"] === id)).toEqual([]);
  });

  it("shows a task to its own tenant only", async () => {
    const { id } = (await (await gw.post("/v1/tasks", { input: "Say hello.", mode: "async", max_tokens: 4 })).json()) as Task;
    await finished(id);
    const as = { headers: { authorization: `Bearer ${otherTenantKey}` } };
    for (const [path, method] of [[`/v1/tasks/${id}`, "GET"], [`/v1/tasks/${id}/events`, "GET"], [`/v1/tasks/${id}/cancel`, "POST"]] as const) {
      const response = await gw.fetch(path, { ...as, method });
      expect(response.status, `${method} ${path}`).toBe(404);
      expect((await response.json()).error.code).toBe("task_not_found");
    }
    expect((await gw.fetch(`/v1/tasks/${crypto.randomUUID()}`)).status).toBe(404);
  });

  it("no longer hands out a task's result once its content is erased, on GET and on the events stream", async () => {
    const { id } = (await (await gw.post("/v1/tasks", { input: "Describe the Harbour Street clinic budget.", model: "small", mode: "async", max_tokens: 8, seed: 1 })).json()) as Task;
    const done = await finished(id);
    expect(done.status).toBe("succeeded");
    const answer = (done.microtasks![0] as { text?: string }).text!;
    expect(answer.length).toBeGreaterThan(0);
    expect((await gw.post("/v1/admin/erasure", { execution_id: id })).status).toBe(200);
    // Temporal still holds the workflow's result; the API must not keep serving it.
    const after = (await (await gw.fetch(`/v1/tasks/${id}`)).json()) as Task & { content_erased: unknown };
    expect(after).toMatchObject({ status: "succeeded", result: null, content_erased: { at: expect.any(String), audit_event_id: expect.any(String) } });
    for (const microtask of after.microtasks!) expect(microtask).not.toHaveProperty("text");
    expect(JSON.stringify(after)).not.toContain(JSON.stringify(answer).slice(1, -1));
    const events = await (await gw.fetch(`/v1/tasks/${id}/events`)).text();
    expect(events).toContain("content_erased");
    expect(events).not.toContain(JSON.stringify(answer).slice(1, -1));
  });

  it("sends a signed webhook to an allowed origin once the task is done", async () => {
    const url = `${receiver.origin}/hooks/atomic?token=secret`;
    const { id } = (await (await gw.post("/v1/tasks", { input: "Say hello.", mode: "async", max_tokens: 4, webhook: { url } })).json()) as Task;
    const task = await settled(id);
    expect(task.webhook).toMatchObject({ delivered: true, attempts: 1 });
    const delivery = receiver.received.find((r) => r.headers["x-atomic-task-id"] === id)!;
    expect(delivery).toBeDefined();
    expect(JSON.parse(delivery.body.toString("utf8"))).toMatchObject({ taskId: id, status: "succeeded" });
    // Verified as a receiver would: the gateway's public key (the audit log's), and the body's digest in the payload.
    const jwk = JSON.parse(readFileSync(join(gw.dataDir, "keys", "audit-signing.pub.jwk"), "utf8")) as Record<string, unknown>;
    const { payload } = await compactVerify(String(delivery.headers["x-atomic-signature"]), await importJWK(jwk, "EdDSA"));
    const claims = JSON.parse(new TextDecoder().decode(payload)) as { taskId: string; bodySha256: string };
    expect(claims.taskId).toBe(id);
    expect(claims.bodySha256).toBe(createHash("sha256").update(delivery.body).digest("hex"));
  });

  it("gives a webhook up after webhooks.maxAttempts deliveries to a receiver that keeps failing", async () => {
    const { id } = (await (await gw.post("/v1/tasks", { input: "Say hello.", mode: "async", max_tokens: 4, webhook: { url: `${receiver.origin}/fail` } })).json()) as Task;
    const task = await settled(id);
    expect(task.status).toBe("succeeded");
    expect(task.webhook).toMatchObject({ failed: expect.any(String) });
    const attempts = receiver.received.filter((r) => r.headers["x-atomic-task-id"] === id).map((r) => r.headers["x-atomic-delivery-attempt"]);
    expect(attempts).toEqual(["1", "2"]);
  });

  it("refuses at once a task naming a model an operator unloaded, as a synchronous request is refused", async () => {
    expect((await gw.post("/v1/admin/models/large/unload?drain_timeout_ms=0", {})).status).toBe(200);
    try {
      const refused = await gw.post("/v1/tasks", { input: "Say hello.", model: "large", mode: "async", max_tokens: 4 });
      expect(refused.status).toBe(503);
      expect((await refused.json()).error).toMatchObject({ code: "model_unloaded", param: "model" });
    } finally {
      expect((await gw.post("/v1/admin/models/large/load", {})).status).toBe(200);
      await until(async () => (await (await gw.fetch("/v1/models/large")).json()).atomic.state === "ready");
    }
  });

  it("refuses a webhook to an origin not on the allowlist, and a webhook on a synchronous task", async () => {
    const refused = await gw.post("/v1/tasks", { input: "x", mode: "async", webhook: { url: "http://127.0.0.1:9/elsewhere" } });
    expect(refused.status).toBe(403);
    expect((await refused.json()).error.code).toBe("webhook_not_allowed");
    // An allowed origin with credentials in the URL: the allow list compares origins, which leave them out.
    const credentials = await gw.post("/v1/tasks", { input: "x", mode: "async", webhook: { url: receiver.origin.replace("http://", "http://user:secret@") + "/x" } });
    expect(credentials.status).toBe(400);
    expect((await credentials.json()).error).toMatchObject({ code: "invalid_parameter", param: "webhook.url" });
    const sync = await gw.post("/v1/tasks", { input: "x", webhook: { url: `${receiver.origin}/x` } });
    expect(sync.status).toBe(400);
    expect((await sync.json()).error.code).toBe("webhook_requires_async");
  });

  it("never lets detected PII into the workflow: it is replaced by placeholders before the task is queued", async () => {
    const email = "maria.lopez@example.org";
    const submitted = await gw.post("/v1/tasks", { input: `Write to ${email} about the invoice.`, mode: "async", max_tokens: 4 });
    expect(submitted.status).toBe(202);
    const { id, redacted } = (await submitted.json()) as Task & { redacted: boolean };
    expect(redacted).toBe(true);
    await finished(id);
    const execution = JSON.stringify(await (await gw.fetch(`/v1/executions/${id}`)).json());
    expect(execution).not.toContain(email);
    expect(execution).toContain("[EMAIL");
  });

  it("keeps PII in a task's schema out of the workflow too: its schema and grammar carry the placeholder", async () => {
    const email = "maria.lopez@example.org";
    // One allowed value: the grammar lets the model write only what the schema it was compiled from holds.
    const schema = { type: "object", properties: { contact: { enum: [email] } }, required: ["contact"] };
    const submitted = await gw.post("/v1/tasks", { input: "Who is the contact?", schema: { inline: schema }, mode: "async" });
    expect(submitted.status).toBe(202);
    const { id, redacted } = (await submitted.json()) as Task & { redacted: boolean };
    expect(redacted).toBe(true);
    const task = await finished(id);
    expect(task.status).toBe("succeeded");
    expect(task.result).toEqual({ contact: "[EMAIL_1]" });
    const entered = (await decryptedHistory(id)).join("\n");
    expect(entered).toContain("[EMAIL_1]");
    expect(entered).not.toContain(email);
  });

  it("leaves Temporal only ciphertext: the history read without the site's key holds no prompt and no result", async () => {
    const prompt = "Describe the quarterly figures of the Harbour Street clinic.";
    const { id } = (await (await gw.post("/v1/tasks", { input: prompt, mode: "async", max_tokens: 4 })).json()) as Task;
    const task = await finished(id);
    expect(task.status).toBe("succeeded");
    const { address, namespace } = sharedTemporal("atomic-test-gateway");
    const connection = await Connection.connect({ address });
    try {
      const history = await new Client({ connection, namespace }).workflow.getHandle(id).fetchHistory();
      // Every byte string in the history (payload data and metadata) as text: the prompt appears in none of them.
      const bytes: string[] = [];
      const collect = (value: unknown): void => {
        if (value instanceof Uint8Array) bytes.push(Buffer.from(value).toString("latin1"));
        else if (typeof value === "object" && value !== null) for (const item of Object.values(value)) collect(item);
      };
      collect(history);
      expect(bytes).toContain("binary/encrypted");
      expect(bytes.some((text) => text.includes("Harbour Street"))).toBe(false);
      const payloads = (history.events ?? []).flatMap((event) => event.workflowExecutionStartedEventAttributes?.input?.payloads ?? []);
      expect(payloads).toHaveLength(1);
      expect(new TextDecoder().decode(payloads[0]!.metadata!["encoding"]!)).toBe("binary/encrypted");
      expect(Buffer.from(payloads[0]!.data!).toString("latin1")).not.toContain("Harbour Street");
    } finally {
      await connection.close();
    }
  });
});

/** Every payload of a workflow's history, decrypted with the site's key: what Temporal holds of the task. */
async function decryptedHistory(id: string): Promise<string[]> {
  const { address, namespace } = sharedTemporal("atomic-test-gateway");
  const connection = await Connection.connect({ address });
  try {
    const history = await new Client({ connection, namespace }).workflow.getHandle(id).fetchHistory();
    const sealed: Array<{ metadata: Record<string, Uint8Array>; data: Uint8Array }> = [];
    const collect = (value: unknown): void => {
      if (typeof value !== "object" || value === null || value instanceof Uint8Array) return;
      const encoding = (value as { metadata?: Record<string, unknown> }).metadata?.["encoding"];
      if (encoding instanceof Uint8Array && Buffer.from(encoding).toString() === ENCRYPTED_ENCODING) sealed.push(value as (typeof sealed)[number]);
      else for (const item of Object.values(value)) collect(item);
    };
    collect(history);
    expect(sealed.length).toBeGreaterThan(0);
    const codec = new EncryptionCodec(readFileSync(join(gw.dataDir, "keys", "temporal-payload.key")));
    return (await codec.decode(sealed)).map((payload) => Buffer.from(payload.data ?? new Uint8Array()).toString("utf8"));
  } finally {
    await connection.close();
  }
}

describe("asynchronous tasks with orchestration off", () => {
  it("refuses them with 503 orchestration_unavailable and queues nothing", async () => {
    const off = await startTestGateway({ models: writeTestModels([{ id: "tiny" }]) });
    try {
      const response = await off.post("/v1/tasks", { input: "x", mode: "async" });
      expect(response.status).toBe(503);
      expect((await response.json()).error.code).toBe("orchestration_unavailable");
    } finally {
      await off.close();
    }
  });
});
