import type { Pool } from "pg";
import type { AuditEvent } from "../../../src/audit/core/entry.js";
import type { NoteVerifier } from "../../../src/audit/core/checkpoint.js";
import type { SigningKey } from "../../../src/audit/core/keys.js";
import { enqueueAuditEvent } from "../../../src/audit/store/queue.js";
import { AuditSequencer } from "../../../src/audit/store/sequencer.js";
import { createPool } from "../../../src/store/postgres/database.js";
import { migrate } from "../../../src/store/postgres/migrate.js";
import { inTransaction } from "../../../src/store/postgres/transaction.js";
import { createTestDatabase, type TestDatabase } from "../../support/database.js";
import { requestEvent, TEST_ORIGIN } from "./events.js";

export interface AuditDatabase {
  database: TestDatabase;
  pool: Pool;
  close(): Promise<void>;
}

/** A migrated database of its own, with a pool large enough for 16 writers, two sequencers and a drain. */
export async function openAuditDatabase(): Promise<AuditDatabase> {
  const database = await createTestDatabase();
  const pool = createPool(database.url, { max: 24 });
  await migrate(pool);
  return {
    database,
    pool,
    close: async () => {
      await pool.end();
      await database.drop();
    },
  };
}

/**
 * `writers` concurrent writers each commit `perWriter` events, one transaction per event as a request handler
 * does; resolves with the ids of all of them, every one acknowledged (committed).
 */
export async function enqueueConcurrently(pool: Pool, writers: number, perWriter: number): Promise<string[]> {
  const perWriterIds = await Promise.all(
    Array.from({ length: writers }, async () => {
      const ids: string[] = [];
      for (let i = 0; i < perWriter; i++) {
        const event = requestEvent();
        await inTransaction(pool, (client) => enqueueAuditEvent(client, event));
        ids.push(event.id);
      }
      return ids;
    }),
  );
  return perWriterIds.flat();
}

export async function countRows(pool: Pool, table: "audit_log" | "audit_queue" | "audit_checkpoints"): Promise<number> {
  return (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n;
}

/**
 * Queues `events` in this order in one transaction, then sequences them with a sequencer of `batchSize`, which
 * leaves a checkpoint at every multiple of batchSize (and at the end).
 */
/** `retired`: the log's earlier keys, which may have signed its last checkpoint (after a rotation). */
export async function sequenceEvents(pool: Pool, key: SigningKey, events: AuditEvent[], batchSize: number, retired: NoteVerifier[] = []): Promise<void> {
  await inTransaction(pool, async (client) => {
    for (const event of events) await enqueueAuditEvent(client, event);
  });
  const sequencer = new AuditSequencer({ pool, key, retired, origin: TEST_ORIGIN, batchSize, intervalMs: 5 });
  await sequencer.start();
  try {
    await sequencer.drain();
  } finally {
    await sequencer.stop();
  }
}
