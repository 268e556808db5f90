import { randomUUID } from "node:crypto";
import type { Pool } from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createTestDatabase, emptyAuditQueue, type TestDatabase } from "../../../test/support/database.js";
import { ContentHasher } from "../../audit/content-hasher.js";
import type { AuditEvent } from "../../audit/core/entry.js";
import { executionEvent } from "../../audit/events.js";
import { ConfigSchema } from "../../config/schema.js";
import { createLogger } from "../../observability/logger.js";
import { ContentEraser } from "../../retention/erasure.js";
import { RetentionJob } from "../../retention/job.js";
import type { ExecutionRecord } from "../interface.js";
import { createPool } from "./database.js";
import { PostgresContentErasureStore } from "./erasure.js";
import { PostgresExecutionStore } from "./executions.js";
import { migrate } from "./migrate.js";

let database: TestDatabase;
let pool: Pool;
let executions: PostgresExecutionStore;
let store: PostgresContentErasureStore;
const hasher = new ContentHasher(Buffer.alloc(32, 7));
const NOW = new Date("2026-03-01T12:00:00.000Z");
const DAY = 86_400_000;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = createPool(database.url);
  await migrate(pool);
  executions = new PostgresExecutionStore(pool);
  store = new PostgresContentErasureStore(pool);
});

afterAll(async () => {
  await pool.end();
  await database.drop();
});

// Every test starts from an empty database: counts and events are then exactly what the test did.
beforeEach(async () => {
  await pool.query("DELETE FROM executions; DELETE FROM bidding_feedback; DELETE FROM adaptation_rated_examples; DELETE FROM bidding_decisions");
  await emptyAuditQueue(pool);
});

interface Seed {
  tenant?: string;
  subject?: string;
  ageDays?: number;
  endpoint?: ExecutionRecord["endpoint"];
  input?: unknown;
  parameters?: Record<string, unknown>;
}

/**
 * An execution holding `secret` in its input and output, inserted with its audit event as the gateway does. Its
 * stop sequences are the caller's text too, but the request's audit event carries its parameters, stop sequences
 * included, so the secret is kept out of them here (the row's parameters are checked for them below).
 */
async function seed(secret: string, options: Seed = {}): Promise<ExecutionRecord> {
  const createdAt = new Date(NOW.getTime() - (options.ageDays ?? 0) * DAY);
  const record: ExecutionRecord = {
    id: randomUUID(),
    requestId: `req-${randomUUID()}`,
    actor: { subject: options.subject ?? "apikey:00000000000000aa", tenant: options.tenant ?? "ward-7", tokenIdHash: "9f".repeat(16) },
    endpoint: options.endpoint ?? "chat.completions",
    modelId: "tiny",
    modelDigest: "ab".repeat(32),
    status: "succeeded",
    errorCode: null,
    parameters: options.parameters ?? { maxTokens: 16, temperature: 0.2, seed: 7, grammar: null, attempts: 1, stop: ["stop-here"], policy: { hash: "p", decision: "allow", classification: "internal", piiKinds: [], purpose: "", redacted: false } },
    input: options.input ?? [{ role: "user", content: `input ${secret}` }],
    output: `output ${secret}`,
    schema: null,
    promptTokens: 12,
    completionTokens: 3,
    timings: { queueMs: 0.25, inferenceMs: 41.5, totalMs: 43.125 },
    createdAt,
    completedAt: new Date(createdAt.getTime() + 50),
  };
  await executions.insert(record, executionEvent(record, hasher));
  return record;
}

async function feedback(executionId: string, comment: string): Promise<void> {
  await pool.query("INSERT INTO bidding_feedback (execution_id, score, tenant, comment) VALUES ($1, 0.5, 'ward-7', $2)", [executionId, comment]);
}

/**
 * The rows that hold content, as text: what a secret must be absent from once erased. (The audit events hold keyed
 * hashes of input and output, and parameters as given: test/gateway/erasure.test.ts searches a whole dump.)
 */
async function storedText(): Promise<string> {
  const rows = await pool.query<{ row: string }>("SELECT e::text AS row FROM executions e UNION ALL SELECT f::text FROM bidding_feedback f");
  return rows.rows.map((r) => r.row).join("\n");
}

async function erasureEvents(): Promise<AuditEvent[]> {
  const rows = await pool.query<{ event: string }>("SELECT event FROM audit_queue ORDER BY enqueued_at, event_id");
  return rows.rows.map((r) => JSON.parse(r.event) as AuditEvent).filter((event) => event.kind === "content.erased");
}

const eraser = (batchSize = 100) => new ContentEraser(store, batchSize);
const byRequest = { trigger: "request" as const, actor: { subject: "cli:test" } };

describe("erasure on demand", () => {
  it("counts without changing anything, then erases exactly the subject's content and records it", async () => {
    const mine = [await seed("alpha-one"), await seed("alpha-two")];
    await feedback(mine[0]!.id, "comment alpha-three");
    const colleague = await seed("beta-one", { subject: "apikey:00000000000000bb" });
    await feedback(colleague.id, "comment beta-two");
    const otherTenant = await seed("gamma-one", { tenant: "ward-8" });
    const selector = { tenant: "ward-7", subject: "apikey:00000000000000aa" };

    const before = await storedText();
    expect(await eraser().count(selector)).toEqual({ executions: 2, feedbackComments: 1 });
    expect(await storedText()).toBe(before);

    const result = await eraser().erase({ selector, ...byRequest });
    expect(result).toMatchObject({ executions: 2, feedbackComments: 1, batches: 1 });
    const text = await storedText();
    for (const gone of ["alpha-one", "alpha-two", "alpha-three"]) expect(text).not.toContain(gone);
    for (const kept of ["beta-one", "beta-two", "gamma-one"]) expect(text).toContain(kept);
    const queued = await pool.query<{ event: string }>("SELECT event FROM audit_queue");
    expect(queued.rows.map((r) => r.event).join("\n")).not.toContain("alpha-");

    const erased = (await executions.get("ward-7", mine[0]!.id))!;
    expect(erased).toMatchObject({ input: null, output: null, status: "succeeded", modelDigest: "ab".repeat(32), promptTokens: 12, completionTokens: 3, requestId: mine[0]!.requestId });
    // How it ran stays; what the caller wrote (stop sequences) goes.
    expect(erased.parameters).toEqual({ maxTokens: 16, temperature: 0.2, seed: 7, grammar: null, attempts: 1, policy: mine[0]!.parameters["policy"] });
    expect(await executions.get("ward-7", colleague.id)).toEqual(colleague);
    expect(await executions.get("ward-8", otherTenant.id)).toEqual(otherTenant);

    const [event] = await erasureEvents();
    expect(event).toMatchObject({
      id: result.auditEventIds[0],
      actor: { subject: "cli:test" },
      detail: { erasure: result.erasureId, trigger: "request", tenant: "ward-7", selectors: { subject: "apikey:00000000000000aa" }, batch: 1, count: 2, feedbackComments: 1 },
    });
    expect((event!.detail!["executions"] as string[]).sort()).toEqual(mine.map((r) => r.id).sort());
    const link = await pool.query("SELECT content_erasure_event FROM executions WHERE id = ANY($1::uuid[])", [mine.map((r) => r.id)]);
    expect(link.rows.map((r) => r.content_erasure_event)).toEqual([event!.id, event!.id]);

    // Again: nothing left to erase, and the request is on the record all the same.
    expect(await eraser().erase({ selector, ...byRequest })).toMatchObject({ executions: 0, feedbackComments: 0, batches: 1 });
    expect((await erasureEvents()).map((e) => e.detail?.["count"])).toEqual([2, 0]);
  });

  it("takes an execution by id, and a task's microtask executions with its record", async () => {
    const task = await seed("task-record", { endpoint: "tasks", input: { microtasks: [{ id: "task", input: { kind: "completion", prompt: "task-prompt" } }] }, parameters: {
      workflow: { workflowId: "w", runId: "r" },
      policy: {},
      microtasks: [{ id: "task", status: "succeeded", model: "tiny", taskQueue: "q", executionId: "e", fallbacks: [{ model: "big", taskQueue: null, outcome: "no_host", code: "no_host", message: "said task-fallback" }], error: { code: "x", message: "task-error" } }],
    } });
    const microtask = await seed("task-microtask", { endpoint: "tasks", input: { task: task.id, microtask: "task", attempt: 1, input: { kind: "completion", prompt: "task-microtask" } } });
    const unrelated = await seed("task-unrelated", { endpoint: "tasks", input: { task: randomUUID(), microtask: "task", attempt: 1, input: "x" } });
    // Inputs that are no object (messages, a bare prompt) are passed over, not an error.
    await seed("task-bystander-messages");
    await seed("task-bystander-prompt", { endpoint: "tasks", input: "task-bystander-prompt" });

    const result = await eraser().erase({ selector: { tenant: "ward-7", executionId: task.id.toUpperCase() }, ...byRequest });
    expect(result.executions).toBe(2);
    const text = await storedText();
    for (const gone of ["task-record", "task-prompt", "task-microtask", "task-fallback", "task-error"]) expect(text).not.toContain(gone);
    for (const kept of ["task-unrelated", "task-bystander-messages", "task-bystander-prompt"]) expect(text).toContain(kept);
    expect((await executions.get("ward-7", task.id))!.parameters).toEqual({
      workflow: { workflowId: "w", runId: "r" },
      policy: {},
      microtasks: [{ id: "task", status: "succeeded", model: "tiny", taskQueue: "q", executionId: "e", fallbacks: [{ model: "big", taskQueue: null, outcome: "no_host", code: "no_host" }], error: { code: "x" } }],
    });
    expect((await executions.get("ward-7", microtask.id))!.input).toBeNull();
    expect((await executions.get("ward-7", unrelated.id))!.input).not.toBeNull();
    // Another tenant cannot name this tenant's execution.
    expect((await eraser().erase({ selector: { tenant: "ward-8", executionId: unrelated.id }, ...byRequest })).executions).toBe(0);
  });

  it("erases in batches, each one commit with its own event; a batch that fails leaves its rows and no event", async () => {
    const rows = [];
    for (let i = 0; i < 5; i++) rows.push(await seed(`batch-${i}`, { ageDays: 10 - i }));
    // The fourth-oldest row refuses to change: the second batch (rows 3 and 4) fails half-way.
    await pool.query(`CREATE FUNCTION refuse_erasure() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$`);
    await pool.query(`CREATE TRIGGER refuse_erasure BEFORE UPDATE ON executions FOR EACH ROW WHEN (OLD.id = '${rows[3]!.id}') EXECUTE FUNCTION refuse_erasure()`);
    try {
      await expect(eraser(2).erase({ selector: { tenant: "ward-7", before: NOW }, ...byRequest })).rejects.toThrow(/disk full/);
    } finally {
      await pool.query("DROP TRIGGER refuse_erasure ON executions; DROP FUNCTION refuse_erasure()");
    }
    const state = await Promise.all(rows.map(async (r) => (await executions.get("ward-7", r.id))!.input === null));
    expect(state).toEqual([true, true, false, false, false]);
    expect((await erasureEvents()).map((e) => e.detail?.["count"])).toEqual([2]);

    // Run again: it finishes what is left, and only that.
    const rest = await eraser(2).erase({ selector: { tenant: "ward-7", before: NOW }, ...byRequest });
    expect(rest).toMatchObject({ executions: 3, batches: 2 });
    const events = await erasureEvents();
    expect(events.map((e) => e.detail?.["count"])).toEqual([2, 2, 1]);
    expect(events.flatMap((e) => e.detail?.["executions"] as string[]).sort()).toEqual(rows.map((r) => r.id).sort());
  });

  it("erases a rater's correction with its execution, and counts it with the feedback texts", async () => {
    const mine = await seed("delta-one");
    const kept = await seed("epsilon-one", { subject: "apikey:00000000000000bb" });
    for (const [record, correction] of [[mine, "delta-two"], [kept, "epsilon-two"]] as const) {
      await pool.query(
        "INSERT INTO adaptation_rated_examples (execution_id, tenant, task_class, classification, score, correction) VALUES ($1, 'ward-7', 'task:t', 'internal', 0, $2::json)",
        [record.id, JSON.stringify(correction)],
      );
    }
    const selector = { tenant: "ward-7", subject: "apikey:00000000000000aa" };
    expect(await eraser().count(selector)).toEqual({ executions: 1, feedbackComments: 1 });
    expect(await eraser().erase({ selector, ...byRequest })).toMatchObject({ executions: 1, feedbackComments: 1 });
    const rows = await pool.query<{ execution_id: string; correction: unknown }>("SELECT execution_id, correction FROM adaptation_rated_examples ORDER BY correction IS NULL");
    expect(rows.rows).toEqual([{ execution_id: kept.id, correction: "epsilon-two" }, { execution_id: mine.id, correction: null }]);
  });

  it("takes the request's quoted n-grams and content features out of its bidding decision and outcome, and keeps how the choice was made", async () => {
    const mine = await seed("zeta-one");
    const kept = await seed("eta-one", { subject: "apikey:00000000000000bb" });
    const shape = { taskType: "chat", inputTokens: 12, vector: [1, 0.5] };
    const decision = (quoted: string) => ({
      executionId: "x", policy: { name: "logistic-ts" },
      microtasks: [{
        id: "m1", bids: [],
        features: { ...shape, content: { layout: "hashed-ngrams/1", indices: [17, 4242], values: [0.7, -0.7] } },
        choice: { model: "small", mode: "exploit", greedyModel: "small", reason: "cheapest", explanation: [{ model: "small", terms: [{ text: quoted, weight: -0.8 }] }] },
      }],
    });
    for (const [record, quoted] of [[mine, "zeta-two"], [kept, "eta-two"]] as const) {
      await pool.query("INSERT INTO bidding_decisions (execution_id, policy, record, created_at) VALUES ($1, 'logistic-ts', $2::json, now())", [record.id, JSON.stringify(decision(quoted))]);
    }
    const stored = { featureVersion: 2, contentLayout: "hashed-ngrams/1", vector: [1, 0.5], indices: [17, 4242], values: [0.7, -0.7] };
    for (const record of [mine, kept]) {
      await pool.query(
        `INSERT INTO bidding_outcomes (execution_id, microtask_id, model_id, task_type, context_key, features, prompt_tokens,
           completion_tokens, queue_ms, inference_ms, learner_epoch, created_at)
         VALUES ($1, 'm1', 'small', 'chat', 'chat:L0', $2::json, 12, 3, 0, 10, 0, now())`,
        [record.id, JSON.stringify(stored)],
      );
    }
    await eraser().erase({ selector: { tenant: "ward-7", subject: "apikey:00000000000000aa" }, ...byRequest });
    const outcomes = await pool.query<{ execution_id: string; features: typeof stored }>("SELECT execution_id, features FROM bidding_outcomes");
    const outcomeOf = new Map(outcomes.rows.map((row) => [row.execution_id, row.features]));
    expect(outcomeOf.get(mine.id)).toEqual({ ...stored, indices: [], values: [] });
    expect(outcomeOf.get(kept.id)).toEqual(stored);
    const rows = await pool.query<{ execution_id: string; record: ReturnType<typeof decision> }>("SELECT execution_id, record FROM bidding_decisions");
    const byId = new Map(rows.rows.map((row) => [row.execution_id, row.record]));
    expect(JSON.stringify(byId.get(mine.id))).not.toContain("zeta-two");
    expect(byId.get(mine.id)!.microtasks[0]!.choice).toEqual({ model: "small", mode: "exploit", greedyModel: "small", reason: "cheapest" });
    expect(byId.get(mine.id)!.microtasks[0]!.features).toEqual(shape);
    expect(byId.get(kept.id)).toEqual(decision("eta-two"));
  });

  it("keeps no comment sent about content already erased", async () => {
    const record = await seed("late-one");
    await eraser().erase({ selector: { tenant: "ward-7", executionId: record.id }, ...byRequest });
    await feedback(record.id, "comment late-two");
    const stored = await pool.query("SELECT score, comment FROM bidding_feedback WHERE execution_id = $1", [record.id]);
    expect(stored.rows).toEqual([{ score: 0.5, comment: null }]);
  });
});

describe("retention", () => {
  const config = (retention: unknown) => ConfigSchema.parse({ retention }).retention;
  const job = (retention: unknown, batchSize = 100) =>
    new RetentionJob({ config: config(retention), eraser: eraser(batchSize), store, logger: createLogger({ level: "silent" }), now: () => NOW });

  it("erases content older than the tenant's days at the job's run, and nothing younger or kept", async () => {
    const old = await seed("old-ward-7", { ageDays: 31 });
    const young = await seed("young-ward-7", { ageDays: 29 });
    const keptForever = await seed("old-ward-8", { tenant: "ward-8", ageDays: 400 });
    const byDefault = await seed("old-ward-9", { tenant: "ward-9", ageDays: 8 });
    await feedback(old.id, "comment old-feedback");

    const pass = await job({ default: { days: 7 }, tenants: { "ward-7": { days: 30 }, "ward-8": { days: null } } }).runOnce();
    expect(pass.tenants.map((t) => [t.tenant, t.days, t.executions, t.feedbackComments])).toEqual([["ward-7", 30, 1, 1], ["ward-9", 7, 1, 0]]);
    expect(pass.tenants[0]!.before).toEqual(new Date(NOW.getTime() - 30 * DAY));
    const text = await storedText();
    for (const gone of ["old-ward-7", "old-feedback", "old-ward-9"]) expect(text).not.toContain(gone);
    for (const kept of ["young-ward-7", "old-ward-8"]) expect(text).toContain(kept);
    expect((await executions.get("ward-7", young.id))!.input).not.toBeNull();
    expect((await executions.get("ward-8", keptForever.id))!.input).not.toBeNull();
    expect((await executions.get("ward-9", byDefault.id))!.input).toBeNull();
    expect(await erasureEvents()).toEqual([
      expect.objectContaining({ actor: { subject: "atomic-retention" }, detail: expect.objectContaining({ trigger: "retention", tenant: "ward-7", retentionDays: 30, selectors: { before: "2026-01-30T12:00:00.000Z" }, executions: [old.id] }) }),
      expect.objectContaining({ detail: expect.objectContaining({ tenant: "ward-9", retentionDays: 7, executions: [byDefault.id] }) }),
    ]);

    // Nothing left past its age: the next pass changes nothing and writes nothing to the log.
    const again = await job({ default: { days: 7 }, tenants: { "ward-7": { days: 30 }, "ward-8": { days: null } } }).runOnce();
    expect(again.tenants.every((t) => t.executions === 0)).toBe(true);
    expect(await erasureEvents()).toHaveLength(2);
  });

  it("does nothing, and asks nothing of the database, when no tenant has a retention", async () => {
    await seed("ancient", { ageDays: 10_000 });
    const asked: string[] = [];
    const quiet = new RetentionJob({ config: config({}), eraser: eraser(), store: { tenantsWithContent: async () => (asked.push("tenants"), []) }, logger: createLogger({ level: "silent" }), now: () => NOW });
    expect(await quiet.runOnce()).toEqual({ tenants: [] });
    expect(asked).toEqual([]);
    expect(await storedText()).toContain("ancient");
  });

  it("is safe with several gateways at once: every row erased once, and recorded once", async () => {
    const rows = [];
    for (let i = 0; i < 60; i++) rows.push(await seed(`many-${i}`, { tenant: i % 2 === 0 ? "ward-7" : "ward-8", ageDays: 40 + (i % 5) }));
    const second = createPool(database.url);
    try {
      const other = new PostgresContentErasureStore(second);
      const retention = { default: { days: 30 } };
      const jobs = [
        job(retention, 3),
        new RetentionJob({ config: config(retention), eraser: new ContentEraser(other, 3), store: other, logger: createLogger({ level: "silent" }), now: () => NOW }),
        job(retention, 4),
      ];
      const passes = await Promise.all(jobs.map((j) => j.runOnce()));
      expect(passes.flatMap((p) => p.tenants).reduce((sum, t) => sum + t.executions, 0)).toBe(60);
    } finally {
      await second.end();
    }
    const recorded = (await erasureEvents()).flatMap((e) => e.detail?.["executions"] as string[]);
    expect(recorded).toHaveLength(60);
    expect(new Set(recorded).size).toBe(60);
    const left = await pool.query("SELECT count(*)::int AS n FROM executions WHERE content_erased_at IS NULL");
    expect(left.rows[0].n).toBe(0);
  });
});
