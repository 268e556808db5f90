import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { AuditEvent } from "../../src/audit/core/entry.js";
import { enqueueAuditEvent } from "../../src/audit/store/queue.js";
import { inTransaction } from "../../src/store/postgres/transaction.js";
import { canonicalize } from "../../src/util/canonical-json.js";
import { emptyAuditQueue } from "../support/database.js";
import { countRows, openAuditDatabase, type AuditDatabase } from "./support/audit-database.js";
import { requestEvent } from "./support/events.js";

let db: AuditDatabase;

beforeAll(async () => {
  db = await openAuditDatabase();
});

afterAll(async () => {
  await db.close();
});

beforeEach(async () => {
  await emptyAuditQueue(db.pool);
});

describe("enqueueAuditEvent", () => {
  it("stores the event's canonical JSON under its id", async () => {
    const event = requestEvent(new Date("2026-03-04T05:06:07.089Z"));
    await enqueueAuditEvent(db.pool, event);
    const rows = (await db.pool.query<{ event_id: string; event: string }>("SELECT event_id, event FROM audit_queue")).rows;
    expect(rows).toEqual([{ event_id: event.id, event: canonicalize(event) }]);
  });

  it("commits and rolls back with the writer's own transaction", async () => {
    const kept = requestEvent();
    await inTransaction(db.pool, (client) => enqueueAuditEvent(client, kept));
    await expect(
      inTransaction(db.pool, async (client) => {
        await enqueueAuditEvent(client, requestEvent());
        throw new Error("the request failed after queuing its event");
      }),
    ).rejects.toThrow(/request failed/);
    const ids = (await db.pool.query<{ event_id: string }>("SELECT event_id FROM audit_queue")).rows.map((row) => row.event_id);
    expect(ids).toEqual([kept.id]);
  });

  it("treats the same id queued twice as one event", async () => {
    const event = requestEvent();
    await enqueueAuditEvent(db.pool, event);
    await enqueueAuditEvent(db.pool, event);
    expect(await countRows(db.pool, "audit_queue")).toBe(1);
  });

  const invalid: Array<[string, AuditEvent]> = [
    ["no kind", { ...requestEvent(), kind: "" as AuditEvent["kind"] }],
    ["a version other than 1", { ...requestEvent(), v: 2 as 1 }],
    ["a time without milliseconds", { ...requestEvent(), time: "2026-03-04T05:06:07Z" }],
    ["an id that is not a UUID", { ...requestEvent(), id: "event-1" }],
    ["an id PostgreSQL would rewrite", { ...requestEvent(), id: `{${requestEvent().id}}` }],
    ["a toJSON that writes something else", { ...requestEvent(), toJSON: () => ({ v: 1 }) } as AuditEvent],
    ["a required field it does not own", Object.create({ kind: "request" }, Object.getOwnPropertyDescriptors((({ kind: _, ...rest }) => rest)(requestEvent()))) as AuditEvent],
  ];

  it.each(invalid)("refuses an event with %s, so that it never reaches the sequencer", async (_, event) => {
    await expect(enqueueAuditEvent(db.pool, event)).rejects.toThrow(TypeError);
    expect(await countRows(db.pool, "audit_queue")).toBe(0);
  });
});
