import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@temporalio/client";
import { NativeConnection, Worker } from "@temporalio/worker";
import { compactVerify, importJWK, type JWK } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditEvent } from "../../src/audit/core/entry.js";
import { generateSigningKey, PUBLIC_JWK_FILE } from "../../src/audit/core/keys.js";
import { enqueueAuditEvent } from "../../src/audit/store/queue.js";
import { BiddingRouter, candidateFrom, PostgresBiddingStore, type RouteDecision } from "../../src/bidding/index.js";
import { createGatewayActivities, WEBHOOK_SIGNATURE_TYPE, type WebhookSignaturePayload } from "../../src/orchestration/activities/index.js";
import { cancelTask, getTaskStatus, submitTask } from "../../src/orchestration/client.js";
import { taskProgressQuery } from "../../src/orchestration/workflows/task.js";
import { WEBHOOK_TASK_QUEUE } from "../../src/orchestration/names.js";
import type { Microtask, TaskInput, TaskPolicyInput, TaskResult, WebhookBody } from "../../src/orchestration/types.js";
import { startAtomicWorker, type RunningAtomicWorker } from "../../src/orchestration/worker.js";
import type { Actor } from "../../src/store/interface.js";
import { uuidv7 } from "../../src/util/uuidv7.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { writeTestModels } from "../support/models.js";
import { sharedTemporal, testWorkflows } from "../support/temporal.js";
import { openTestPipeline, testLogger, type TestPipeline } from "../support/temporal-env.js";
import { PendingOutcomes } from "../../src/pipeline/routing.js";
import { recordHistoryFixture } from "./history.js";

const actor: Actor = { subject: "webhook-test", tenant: "default", tokenIdHash: "test" };
// Small intervals keep retries quick; nothing here depends on how long they actually take.
const FAST_WEBHOOK: TaskPolicyInput = { webhook: { maximumAttempts: 5, initialIntervalMs: 20, maximumIntervalMs: 50, startToCloseMs: 10_000 } };

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A real HTTP receiver on 127.0.0.1 whose answer depends on the path: see `answer`. */
class Receiver {
  readonly received: Received[] = [];
  private readonly server: Server;
  private readonly seen = new Map<string, number>();

  constructor() {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        const path = request.url ?? "/";
        this.received.push({ path, headers: request.headers, body: Buffer.concat(chunks) });
        const count = (this.seen.get(path) ?? 0) + 1;
        this.seen.set(path, count);
        response.statusCode = this.answer(path, count);
        response.end();
      });
    });
  }

  /** /flaky/…: 500 twice, then 200; /down/…: always 503; /gone/…: 404; /moved/…: 302 elsewhere; else 200. */
  private answer(path: string, count: number): number {
    if (path.startsWith("/flaky/")) return count <= 2 ? 500 : 200;
    if (path.startsWith("/down/")) return 503;
    if (path.startsWith("/gone/")) return 404;
    if (path.startsWith("/moved/")) return 302;
    return 200;
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  requestsTo(prefix: string): Received[] {
    return this.received.filter((r) => r.path.startsWith(prefix));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

let database: TestDatabase;
let pipeline: TestPipeline;
let worker: RunningAtomicWorker;
let connection: NativeConnection;
let client: Client;
let router: BiddingRouter;
let biddingStore: PostgresBiddingStore;
let receiver: Receiver;
let stranger: Receiver;
let origin: string;
let strangerOrigin: string;
let keyDir: string;
let pending: PendingOutcomes;

beforeAll(async () => {
  const { address, namespace } = sharedTemporal("atomic-test-webhooks");
  const models = writeTestModels([{ id: "alpha" }, { id: "beta", options: { seed: 2 } }]);
  database = await createTestDatabase();
  pipeline = await openTestPipeline({ databaseUrl: database.url, manifestPath: models.manifestPath });
  biddingStore = new PostgresBiddingStore(pipeline.stores.pool);
  router = new BiddingRouter({ store: biddingStore });
  receiver = new Receiver();
  stranger = new Receiver();
  origin = await receiver.listen();
  strangerOrigin = await stranger.listen();
  keyDir = mkdtempSync(join(tmpdir(), "atomic-webhook-key-"));
  const signer = generateSigningKey(keyDir, "atomic.webhook-test");
  const logger = testLogger();
  // As in the gateway, the host's pipeline tracks each execution's outcome, unless its task teaches the learner.
  pending = new PendingOutcomes();
  const tracked = {
    ...pipeline.pipeline,
    routing: { router, pending, omittedModel: "default" as const, tenantCriteria: () => undefined, onTrackingError: (error: unknown) => logger.error({ err: error }, "tracking failed") },
  };
  worker = await startAtomicWorker({
    address,
    namespace,
    hostId: "webhooks-host",
    logger,
    control: { executions: pipeline.stores.executions, contentHasher: pipeline.pipeline.contentHasher },
    inference: { pipeline: tracked, models: pipeline.catalog },
    gateway: {
      learner: router,
      outcomes: biddingStore,
      executions: pipeline.stores.executions,
      signer,
      webhookAllow: [origin],
      // The real audit queue: events that pass its checks are what the sequencer would log.
      audit: (event) => enqueueAuditEvent(pipeline.stores.pool, event),
      logger,
    },
    workflows: testWorkflows(),
  });
  connection = await NativeConnection.connect({ address });
  client = new Client({ connection, namespace });
});

afterAll(async () => {
  await worker?.shutdown();
  await connection?.close();
  await pipeline?.close();
  await database?.drop();
  await receiver?.close();
  await stranger?.close();
});

const ask = (id: string, model: string, prompt: string, extra: Partial<Microtask> = {}): Microtask => ({
  id,
  model,
  input: { kind: "completion", prompt },
  dependsOn: [],
  options: { maxTokens: 8, temperature: 0, seed: 1 },
  ...extra,
});

const part = (id: string, model: string, property: string, schema: Record<string, unknown>): Microtask => ({
  id,
  model,
  input: { kind: "completion", prompt: `fill ${property}:` },
  dependsOn: [],
  options: { temperature: 0, seed: 1 },
  schema: { type: "object", properties: { [property]: schema }, required: [property], additionalProperties: false },
});

async function runTask(microtasks: Microtask[], extra: Partial<TaskInput> = {}): Promise<{ input: TaskInput; result: TaskResult }> {
  const input: TaskInput = { taskId: uuidv7(), requestId: `req-${uuidv7()}`, actor, microtasks, ...extra };
  const handle = await submitTask(client, input);
  return { input, result: await handle.result() };
}

async function webhookEvents(taskId: string): Promise<AuditEvent[]> {
  const rows = await pipeline.stores.pool.query<{ event: string }>("SELECT event FROM audit_queue ORDER BY enqueued_at, event_id");
  return rows.rows
    .map((row) => JSON.parse(row.event) as AuditEvent)
    .filter((event) => event.kind === "webhook.attempt" && event.detail?.["taskId"] === taskId)
    .sort((a, b) => Number(a.detail!["attempt"]) - Number(b.detail!["attempt"]));
}

/** What a receiver does: verify the JWS with the gateway's public JWK, then the body against its digest. */
async function verifyDelivery(delivery: Received): Promise<WebhookSignaturePayload> {
  const jwk = JSON.parse(readFileSync(join(keyDir, PUBLIC_JWK_FILE), "utf8")) as JWK;
  const { payload, protectedHeader } = await compactVerify(String(delivery.headers["x-atomic-signature"]), await importJWK(jwk, "EdDSA"));
  expect(protectedHeader).toEqual({ alg: "EdDSA", kid: "atomic.webhook-test", typ: WEBHOOK_SIGNATURE_TYPE });
  const claims = JSON.parse(new TextDecoder().decode(payload)) as WebhookSignaturePayload;
  expect(claims.bodySha256).toBe(createHash("sha256").update(delivery.body).digest("hex"));
  expect(String(claims.attempt)).toBe(delivery.headers["x-atomic-delivery-attempt"]);
  expect(claims.taskId).toBe(delivery.headers["x-atomic-task-id"]);
  return claims;
}


describe("assembly of a decomposed task", () => {
  it("lists the sinks' outputs in microtask order", async () => {
    const { input, result } = await runTask([ask("item-1", "alpha", "first:"), ask("item-2", "beta", "second:"), ask("item-3", "alpha", "third:")], { assembly: "list" });
    expect(result.status).toBe("succeeded");
    expect(result.result).toEqual(result.microtasks.map((m) => m.text));
    expect(result.microtasks.map((m) => m.id)).toEqual(["item-1", "item-2", "item-3"]);
    // The task's record holds the assembled list as its output.
    expect(await pipeline.stores.executions.get(actor.tenant, input.taskId)).toMatchObject({ status: "succeeded", output: result.result });
    // Nothing asked for learning or a webhook: neither ran, and each execution taught the learner on its own.
    expect(result.learning).toBeUndefined();
    expect(result.webhook).toBeUndefined();
    await pending.all();
    for (const m of result.microtasks) expect(await biddingStore.getOutcomes(m.executionId!)).toHaveLength(1);
  });

  it("merges the parts' objects into one", async () => {
    const { result } = await runTask([
      part("part-1", "alpha", "ok", { type: "boolean" }),
      part("part-2", "beta", "level", { enum: ["low", "high"] }),
    ], { assembly: "merge" });
    expect(result.status).toBe("succeeded");
    const [one, two] = result.microtasks;
    expect(result.result).toEqual({ ...(one!.value as object), ...(two!.value as object) });
    expect(Object.keys(result.result as object)).toEqual(["ok", "level"]);
  });

  it("fails the task when a part's output is not an object, rather than dropping it", async () => {
    const { input, result } = await runTask([part("part-1", "alpha", "ok", { type: "boolean" }), ask("part-2", "beta", "text:")], { assembly: "merge" });
    expect(result).toMatchObject({ status: "failed", result: null, error: { code: "validation_failed", details: [{ microtask: "part-2", code: "not_an_object" }] } });
    expect(result.error!.message).toMatch(/part-2: its output is a string, not an object/);
    expect(await pipeline.stores.executions.get(actor.tenant, input.taskId)).toMatchObject({ status: "failed", errorCode: "validation_failed" });
  });
});

describe("feedback to the learner", () => {
  /** Bidding's own decision for a task, stored under the task id, and the workflow's microtasks from it. */
  async function decided(taskId: string): Promise<{ decision: RouteDecision; microtasks: Microtask[] }> {
    const decision = await router.route({
      executionId: taskId,
      request: { kind: "task", text: "Answer each of these:\n1. Name a colour of the sky at noon\n2. Name a fruit that is yellow\n3. Name an animal that barks" },
      candidates: pipeline.pipeline.models.list().map(({ model, status }) => candidateFrom(model, status)),
    });
    expect(decision.plan.planner).toBe("items");
    const steps = new Map(decision.plan.microtasks.map((m) => [m.id, m]));
    const microtasks = decision.assignments.map((a) => ask(a.microtaskId, a.modelId, steps.get(a.microtaskId)!.input));
    return { decision, microtasks };
  }

  it("teaches the learner each microtask's outcome under the task's decision, once, and delivers the signed outcome", async () => {
    const taskId = uuidv7();
    const { decision, microtasks } = await decided(taskId);
    await pending.all();
    const before = router.state().models;
    const { input, result } = await runTask(microtasks, { taskId, assembly: "list", learn: true, webhook: { url: `${origin}/ok/${taskId}` } });
    expect(result.status).toBe("succeeded");
    expect(result.learning).toEqual({ recorded: microtasks.length });
    expect(result.webhook).toEqual({ delivered: true, attempts: 1, status: 200 });

    // The store holds one outcome per microtask under the decision (the task id), with the microtask's tokens.
    const outcomes = await biddingStore.getOutcomes(taskId);
    expect(outcomes.map((o) => [o.microtaskId, o.modelId]).sort()).toEqual(decision.assignments.map((a) => [a.microtaskId, a.modelId]).sort());
    for (const m of result.microtasks) {
      const outcome = outcomes.find((o) => o.microtaskId === m.id)!;
      const execution = await pipeline.stores.executions.get(actor.tenant, m.executionId!);
      expect(outcome).toMatchObject({ promptTokens: m.promptTokens, completionTokens: m.completionTokens, errorCode: null, schemaValid: null });
      expect(outcome.inferenceMs).toBeCloseTo(execution!.timings.inferenceMs, 3);
      expect(outcome.learnedReward).not.toBeNull();
    }
    // The learner took one lesson per microtask, and none from the microtasks' own executions.
    await pending.all();
    for (const m of result.microtasks) expect(await biddingStore.getOutcomes(m.executionId!)).toEqual([]);
    const after = router.state().models;
    const lessons = Object.keys(after).reduce((sum, id) => sum + after[id]!.observations - (before[id]?.observations ?? 0), 0);
    expect(lessons).toBe(microtasks.length);

    // A retry (here: another gateway's activity, which remembers nothing) does not teach the same outcome twice.
    const again = createGatewayActivities({ learner: router, outcomes: biddingStore, executions: pipeline.stores.executions, signer: generateSigningKey(mkdtempSync(join(tmpdir(), "atomic-k-")), "other"), webhookAllow: [], logger: testLogger() });
    const request = { taskId, tenant: actor.tenant, microtasks: result.microtasks };
    expect(await again.recordOutcomes(request)).toEqual({ recorded: microtasks.length });
    const afterRetry = router.state().models;
    expect(Object.keys(afterRetry).map((id) => afterRetry[id]!.observations)).toEqual(Object.keys(after).map((id) => after[id]!.observations));

    const [delivery] = receiver.requestsTo(`/ok/${taskId}`);
    const body = JSON.parse(delivery!.body.toString("utf8")) as WebhookBody;
    expect(body).toEqual({
      object: "task.event",
      type: "task.succeeded",
      taskId,
      status: "succeeded",
      result: result.result,
      error: null,
      links: { task: `/v1/tasks/${taskId}`, execution: `/v1/executions/${taskId}` },
    });
    await verifyDelivery(delivery!);

    // The history replays against the workflow code; ATOMIC_RECORD_HISTORY=1 refreshes the fixture replay.test.ts uses.
    await Worker.runReplayHistory({ workflowBundle: { codePath: testWorkflows().bundlePath } }, await client.workflow.getHandle(input.taskId).fetchHistory(), input.taskId);
    if (process.env["ATOMIC_RECORD_HISTORY"]) recordHistoryFixture(sharedTemporal("atomic-test-webhooks"), input.taskId, "learn-webhook-queue-history.json");
  });

  it("says why learning was skipped when bidding made no decision for the task, and keeps the task's status", async () => {
    const { result } = await runTask([ask("item-1", "alpha", "hi")], { learn: true });
    expect(result.status).toBe("succeeded");
    expect(result.learning).toEqual({ skipped: expect.stringMatching(/no decision for task/) });
  });
});

describe("webhooks", () => {
  it("retries a failing receiver with backoff, signing and auditing every attempt", async () => {
    const { input, result } = await runTask([ask("only", "alpha", "hi")], { webhook: { url: `${origin}/flaky/x?token=s3cret` }, policy: FAST_WEBHOOK });
    expect(result.status).toBe("succeeded");
    expect(result.webhook).toEqual({ delivered: true, attempts: 3, status: 200 });

    const deliveries = receiver.requestsTo("/flaky/x");
    expect(deliveries.map((d) => d.headers["x-atomic-delivery-attempt"])).toEqual(["1", "2", "3"]);
    for (const d of deliveries) {
      expect(d.headers["content-type"]).toBe("application/json");
      expect(d.headers["x-atomic-task-id"]).toBe(input.taskId);
      const claims = await verifyDelivery(d);
      expect(claims.taskId).toBe(input.taskId);
    }
    // The same body each time, so a receiver can tell a retry from a new event by the task id alone.
    expect(new Set(deliveries.map((d) => d.body.toString("hex"))).size).toBe(1);
    // A body altered on the way no longer matches the signed digest.
    await expect(verifyDelivery({ ...deliveries[0]!, body: Buffer.from(`${deliveries[0]!.body.toString()} `) })).rejects.toThrow();

    const events = await webhookEvents(input.taskId);
    expect(events.map((e) => [e.detail!["attempt"], e.detail!["status"], e.detail!["delivered"], e.outcome])).toEqual([
      [1, 500, false, { status: "failed", code: "http_500" }],
      [2, 500, false, { status: "failed", code: "http_500" }],
      [3, 200, true, { status: "succeeded" }],
    ]);
    // Only the origin is on the record: the path and query may hold the receiver's secret.
    expect(events.every((e) => e.detail!["origin"] === origin && e.actor?.tenant === actor.tenant)).toBe(true);
    expect(JSON.stringify(events)).not.toMatch(/s3cret|flaky/);
  });

  it("gives up after maximumAttempts on a receiver that always fails; the task still succeeded", async () => {
    const { input, result } = await runTask([ask("only", "alpha", "hi")], { webhook: { url: `${origin}/down/y` }, policy: { webhook: { ...FAST_WEBHOOK.webhook, maximumAttempts: 3 } } });
    expect(result.status).toBe("succeeded");
    expect(result.webhook).toEqual({ failed: expect.stringMatching(/attempt 3 .* answered HTTP 503/) });
    expect(receiver.requestsTo("/down/y")).toHaveLength(3);
    expect((await webhookEvents(input.taskId)).map((e) => e.detail!["status"])).toEqual([503, 503, 503]);
    // The task's record was written before delivery began and says nothing of it.
    expect(await pipeline.stores.executions.get(actor.tenant, input.taskId)).toMatchObject({ status: "succeeded" });
  });

  it("does not retry a receiver that refuses the request (4xx), nor follow a redirect", async () => {
    const gone = await runTask([ask("only", "alpha", "hi")], { webhook: { url: `${origin}/gone/z` }, policy: FAST_WEBHOOK });
    expect(gone.result.webhook).toEqual({ failed: expect.stringMatching(/attempt 1 .* answered HTTP 404/) });
    expect(receiver.requestsTo("/gone/z")).toHaveLength(1);

    const moved = await runTask([ask("only", "alpha", "hi")], { webhook: { url: `${origin}/moved/w` }, policy: { webhook: { ...FAST_WEBHOOK.webhook, maximumAttempts: 2 } } });
    expect(moved.result.webhook).toEqual({ failed: expect.stringMatching(/attempt 2 .* answered HTTP 302/) });
    expect(receiver.requestsTo("/moved/w")).toHaveLength(2);
  });

  it("stops delivering when the task is cancelled after its record; the recorded result stands", async () => {
    // Long waits between tries: the cancel lands while the webhook waits for its next one.
    const input: TaskInput = { taskId: uuidv7(), requestId: `req-${uuidv7()}`, actor, microtasks: [ask("only", "alpha", "hi")], webhook: { url: `${origin}/down/c` }, policy: { webhook: { initialIntervalMs: 600_000, maximumAttempts: 3 } } };
    const handle = await submitTask(client, input);
    while (receiver.requestsTo("/down/c").length === 0) await new Promise((r) => setTimeout(r, 20));
    expect(await handle.query(taskProgressQuery)).toMatchObject({ status: "notifying" });
    await cancelTask(client, input.taskId);
    const result = await handle.result();
    expect(result).toMatchObject({ status: "succeeded", webhook: { failed: "cancelled during delivery" } });
    expect(await getTaskStatus(client, input.taskId)).toMatchObject({ state: "completed" });
    expect(receiver.requestsTo("/down/c")).toHaveLength(1);
  });

  it("refuses a URL whose origin is not allowed, without calling it or retrying", async () => {
    const { input, result } = await runTask([ask("only", "alpha", "hi")], { webhook: { url: `${strangerOrigin}/hook` }, policy: FAST_WEBHOOK });
    expect(result.status).toBe("succeeded");
    expect(result.webhook).toEqual({ failed: expect.stringMatching(/not on this gateway's webhooks.allow/) });
    expect(stranger.received).toHaveLength(0);
    const events = await webhookEvents(input.taskId);
    expect(events.map((e) => [e.detail!["attempt"], e.detail!["origin"], e.outcome])).toEqual([[1, strangerOrigin, { status: "refused", code: "webhook_not_allowed" }]]);
    // One try only, from the workflow's own history (on the webhooks' own queue).
    const history = await client.workflow.getHandle(input.taskId).fetchHistory();
    const tries = (history.events ?? []).filter((e) => e.activityTaskStartedEventAttributes && history.events!.find((s) => Number(s.eventId) === Number(e.activityTaskStartedEventAttributes!.scheduledEventId))?.activityTaskScheduledEventAttributes?.taskQueue?.name === WEBHOOK_TASK_QUEUE);
    expect(tries.map((e) => Number(e.activityTaskStartedEventAttributes!.attempt))).toEqual([1]);
  });
});
