import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countRows, enqueueConcurrently, openAuditDatabase, sequenceEvents, type AuditDatabase } from "./support/audit-database.js";
import { requestEvent, testSigningKey } from "./support/events.js";
import { expectIntactLog } from "./support/log-invariants.js";

const key = testSigningKey();
let db: AuditDatabase;
let ids: string[];

beforeAll(async () => {
  db = await openAuditDatabase();
  const events = Array.from({ length: 5 }, () => requestEvent());
  ids = events.map((event) => event.id);
  await sequenceEvents(db.pool, key, events, 100);
});

afterAll(async () => {
  await db.close();
});

// The test database's user is a superuser and owns the tables: the triggers refuse even it.
const refused: Array<[string, string]> = [
  ["UPDATE of a leaf", "UPDATE audit_log SET leaf = leaf || '\\x20'::bytea WHERE idx = 2"],
  ["UPDATE of an event time", "UPDATE audit_log SET event_time = now()"],
  ["DELETE of a leaf", "DELETE FROM audit_log WHERE idx = 4"],
  ["TRUNCATE of the log", "TRUNCATE audit_log"],
  ["UPDATE of a checkpoint", "UPDATE audit_checkpoints SET note = 'forged'"],
  ["DELETE of a checkpoint", "DELETE FROM audit_checkpoints"],
  ["TRUNCATE of the checkpoints", "TRUNCATE audit_checkpoints"],
  ["TRUNCATE of the queue", "TRUNCATE audit_queue"],
];

describe("audit tables", () => {
  it.each(refused)("refuse %s", async (_, sql) => {
    await expect(db.pool.query(sql)).rejects.toMatchObject({ code: "42501", message: expect.stringMatching(/append-only/) });
  });

  it("still hold the log exactly as sequenced after every refused change", async () => {
    expect(await countRows(db.pool, "audit_log")).toBe(5);
    await expectIntactLog(db.pool, key, ids);
  });

  it("refuse to change a queued event or drop it before it is logged, and let the sequencer move it into the log", async () => {
    const [queued] = await enqueueConcurrently(db.pool, 1, 1);
    for (const sql of ["UPDATE audit_queue SET event = replace(event, 'succeeded', 'failed')", "DELETE FROM audit_queue"]) {
      await expect(db.pool.query(sql), sql).rejects.toMatchObject({ code: "42501", message: expect.stringMatching(/append-only/) });
    }
    expect(await countRows(db.pool, "audit_queue")).toBe(1);
    await sequenceEvents(db.pool, key, [], 10);
    expect(await countRows(db.pool, "audit_queue")).toBe(0);
    expect((await db.pool.query("SELECT 1 FROM audit_log WHERE event_id = $1", [queued])).rowCount).toBe(1);
  });
});
