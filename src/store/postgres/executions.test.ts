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

  // Written alone (scalar parameters) and together with others (one array parameter per column, whose literal
  // escaping is pg's): both ways must keep every byte.
  it.each([["alone", 1], ["in a batch", 3]])("keeps quotes, backslashes, braces and escapes in every text and JSON field as given, and a JSON null input, written %s", async (_, count) => {
    const awkward = `"{a,b}" \\ \\" \\u0041 \n ' NULL`;
    const records = Array.from({ length: count }, () => execution({
      requestId: awkward,
      actor: { subject: awkward, tenant: TENANT, tokenIdHash: awkward, sourceAddress: awkward },
      modelId: awkward,
      errorCode: awkward,
      parameters: { [awkward]: awkward },
      input: null,
      output: [awkward, { [awkward]: null }],
      schema: { name: awkward, version: 2 },
    }));
    await Promise.all(records.map(insertWithEvent));
    for (const record of records) {
      expect(await store.get(TENANT, record.id)).toEqual(record);
      const raw = await pool.query("SELECT input::text AS input, output IS NULL AS no_output FROM executions WHERE id = $1", [record.id]);
      expect(raw.rows[0]).toEqual({ input: "null", no_output: false });
    }
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

describe("PostgresExecutionStore, the operators' list", () => {
  const LISTED = "ward-listed";
  let ids: string[];

  beforeAll(async () => {
    // Microseconds the database keeps and a Date cannot, and many rows at one instant: a page must end between them.
    const records = Array.from({ length: 23 }, (_, i) => execution({ actor: { subject: "apikey:lister", tenant: LISTED, tokenIdHash: "9f".repeat(16) }, modelId: i % 3 === 0 ? "other" : "tiny", status: i % 2 === 0 ? "failed" : "succeeded", errorCode: i % 2 === 0 ? "model_overloaded" : null }));
    await Promise.all(records.map(insertWithEvent));
    await pool.query("UPDATE executions SET created_at = '2026-03-01T00:00:00Z'::timestamptz + (ord / 4) * interval '1.000001 second' FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, ord) WHERE executions.id = t.id", [records.map((r) => r.id)]);
    ids = (await pool.query<{ id: string }>("SELECT id FROM executions WHERE tenant = $1 ORDER BY created_at DESC, id DESC", [LISTED])).rows.map((row) => row.id);
  });

  async function everyPage(query: Omit<Parameters<PostgresExecutionStore["list"]>[0], "after">): Promise<string[][]> {
    const pages: string[][] = [];
    let after;
    do {
      const page = await store.list({ ...query, ...(after === undefined ? {} : { after }) });
      pages.push(page.executions.map((e) => e.id));
      after = page.next ?? undefined;
    } while (after !== undefined);
    return pages;
  }

  it("pages through every match once, newest first, ending pages between rows of one instant", async () => {
    const pages = await everyPage({ tenant: LISTED, limit: 5 });
    expect(pages.map((page) => page.length)).toEqual([5, 5, 5, 5, 3]);
    expect(pages.flat()).toEqual(ids);
    expect((await everyPage({ tenant: LISTED, limit: 23 })).flat()).toEqual(ids);
  });

  it("narrows by model, status and time, every selector together, and says what it holds without content", async () => {
    const failedTiny = (await pool.query<{ id: string }>("SELECT id FROM executions WHERE tenant = $1 AND model_id = 'tiny' AND status = 'failed' ORDER BY created_at DESC, id DESC", [LISTED])).rows.map((row) => row.id);
    expect((await everyPage({ tenant: LISTED, model: "tiny", status: "failed", limit: 2 })).flat()).toEqual(failedTiny);
    const window = await store.list({ tenant: LISTED, from: new Date("2026-03-01T00:00:01Z"), to: new Date("2026-03-01T00:00:03Z"), limit: 200 });
    expect(window.executions).toHaveLength(8);
    expect(window.next).toBeNull();
    expect(window.executions[0]).toEqual({
      id: expect.any(String), tenant: LISTED, subject: "apikey:lister", endpoint: "chat.completions", modelId: expect.any(String), status: expect.any(String),
      errorCode: expect.toSatisfy((code: unknown) => code === null || code === "model_overloaded"), promptTokens: 12, completionTokens: 3, totalMs: 43.125, createdAt: expect.any(Date),
    });
  });

  it("finds any tenant's execution by id alone", async () => {
    expect((await store.find(ids[0]!))?.actor.tenant).toBe(LISTED);
    expect(await store.find(randomUUID())).toBeNull();
    expect(await store.find("not-a-uuid")).toBeNull();
  });
});
