import { randomUUID } from "node:crypto";
import type { Pool } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../../test/support/database.js";
import { ContentHasher } from "../../audit/content-hasher.js";
import { executionEvent } from "../../audit/events.js";
import type { ExecutionRecord } from "../interface.js";
import { createPool } from "./database.js";
import { PostgresExecutionStore } from "./executions.js";
import { migrate } from "./migrate.js";

const TENANT = "ward-7";
let database: TestDatabase;
let pool: Pool;
let store: PostgresExecutionStore;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = createPool(database.url);
  await migrate(pool);
  store = new PostgresExecutionStore(pool);
});

afterAll(async () => {
  await pool.end();
  await database.drop();
});

function execution(overrides: Partial<ExecutionRecord> = {}): ExecutionRecord {
  return {
    id: randomUUID(),
    requestId: "req-1",
    actor: { subject: "apikey:0123456789abcdef", tenant: TENANT, tokenIdHash: "9f".repeat(16), sourceAddress: "127.0.0.1" },
    endpoint: "chat.completions",
    modelId: "tiny",
    modelDigest: "ab".repeat(32),
    status: "succeeded",
    errorCode: null,
    parameters: { maxTokens: 16, temperature: 0.2, seed: 7, grammar: null },
    input: [
      { role: "system", content: "be brief" },
      { role: "user", content: "héllo ✓ 🙂" },
    ],
    output: "hi",
    schema: null,
    promptTokens: 12,
    completionTokens: 3,
    timings: { queueMs: 0.25, inferenceMs: 41.5, totalMs: 43.125 },
    createdAt: new Date("2026-01-02T03:04:05.678Z"),
    completedAt: new Date("2026-01-02T03:04:05.721Z"),
    ...overrides,
  };
}

const hasher = new ContentHasher(Buffer.alloc(32, 7));
const insertWithEvent = (record: ExecutionRecord) => store.insert(record, executionEvent(record, hasher));

describe("PostgresExecutionStore", () => {
  it("returns exactly what was inserted, with dates as Date and numbers as numbers", async () => {
    const record = execution();
    await insertWithEvent(record);
    expect(await store.get(TENANT, record.id)).toEqual(record);
  });

  it("is invisible to every other tenant, as if it did not exist", async () => {
    const record = execution();
    await insertWithEvent(record);
    expect(await store.get("ward-8", record.id)).toBeNull();
    expect(await store.get(TENANT.toUpperCase(), record.id)).toBeNull();
    expect(await store.get(TENANT, record.id)).not.toBeNull();
  });

  it("keeps NUL characters and key order exactly as given", async () => {
    const record = execution({ input: [{ role: "user", content: "a\u0000b" }], output: { zeta: 1, alpha: "\u0000" } });
    await insertWithEvent(record);
    const stored = await store.get(TENANT, record.id);
    expect(stored).toEqual(record);
    expect(Object.keys(stored!.output as object)).toEqual(["zeta", "alpha"]);
  });

  it("keeps structured output, schema references and failures", async () => {
    const structured = execution({
      endpoint: "tasks",
      input: { ticket: "printer on fire" },
      output: { category: "hardware", urgent: true, tags: ["fire", "printer"] },
      schema: { name: "ticket.triage", version: 3 },
    });
    const failed = execution({
      endpoint: "completions",
      status: "failed",
      errorCode: "model_unavailable",
      input: "Once upon",
      output: null,
      completionTokens: 0,
    });
    await insertWithEvent(structured);
    await insertWithEvent(failed);
    expect(await store.get(TENANT, structured.id)).toEqual(structured);
    expect(await store.get(TENANT, failed.id)).toEqual(failed);
  });

  it("queues the audit event in the same statement, and stores neither when one of them is refused", async () => {
    const record = execution();
    const event = executionEvent(record, hasher);
    await store.insert(record, event);
    const queued = await pool.query("SELECT event FROM audit_queue WHERE event_id = $1", [event.id]);
    expect(JSON.parse(queued.rows[0].event)).toEqual(event);

    const second = execution();
    await expect(store.insert(second, event)).rejects.toMatchObject({ code: "23505" });
    expect(await store.get(TENANT, second.id)).toBeNull();
  });

  it("stores concurrent inserts together, and refuses only the bad one among them", async () => {
    const records = Array.from({ length: 40 }, () => execution());
    const bad = { ...execution(), promptTokens: -1 };
    const outcomes = await Promise.all([...records, bad].map((r) => insertWithEvent(r).then(() => "ok", (e: { code?: string }) => e.code)));
    expect(outcomes.slice(0, 40).every((o) => o === "ok")).toBe(true);
    expect(outcomes[40]).toBe("23514");
    for (const r of records) expect(await store.get(TENANT, r.id)).toEqual(r);
    expect(await store.get(TENANT, bad.id)).toBeNull();
    const queued = await pool.query("SELECT count(*)::int AS n FROM audit_queue WHERE event_id = ANY($1::uuid[])", [[...records, bad].map((r) => r.id)]);
    expect(queued.rows[0].n).toBe(40);
  });

  it("returns null for an unknown id and for a string that is not a UUID", async () => {
    expect(await store.get(TENANT, randomUUID())).toBeNull();
    expect(await store.get(TENANT, "not-a-uuid")).toBeNull();
    expect(await store.get(TENANT, "'; DROP TABLE executions; --")).toBeNull();
  });

  it("refuses a second record with the same id and keeps the first", async () => {
    const record = execution();
    await insertWithEvent(record);
    await expect(insertWithEvent({ ...record, output: "changed" })).rejects.toMatchObject({ code: "23505" });
    expect((await store.get(TENANT, record.id))?.output).toBe("hi");
  });

  it("stores nothing of a record the database rejects", async () => {
    const invalid = execution({ promptTokens: -1 });
    await expect(insertWithEvent(invalid)).rejects.toMatchObject({ code: "23514" });
    expect(await store.get(TENANT, invalid.id)).toBeNull();
  });
});
