import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AuditSequencer } from "../../src/audit/store/sequencer.js";
import { SequencerThread, type SequencerThreadOptions } from "../../src/audit/store/sequencer-thread.js";
import { enqueueConcurrently, openAuditDatabase, type AuditDatabase } from "./support/audit-database.js";
import { TEST_ORIGIN, testSigningKey } from "./support/events.js";
import { expectIntactLog } from "./support/log-invariants.js";

const key = testSigningKey();
let db: AuditDatabase;
let threads: SequencerThread[];
let logged: Array<{ level: string; msg: string | undefined }>;

beforeEach(async () => {
  db = await openAuditDatabase();
  threads = [];
  logged = [];
});

afterEach(async () => {
  await Promise.all(threads.map((thread) => thread.stop()));
  await db.close();
});

function thread(options: Partial<SequencerThreadOptions> = {}): SequencerThread {
  const record = (level: string) => (_obj: object, msg?: string) => logged.push({ level, msg });
  const created = new SequencerThread({
    databaseUrl: db.database.url,
    pool: db.pool,
    key,
    origin: TEST_ORIGIN,
    intervalMs: 5,
    electionIntervalMs: 20,
    logger: { info: record("info"), warn: record("warn"), error: record("error") },
    ...options,
  });
  threads.push(created);
  return created;
}

/** The backend holding the sequencer's leader lock, if any: what a DBA or a network fault would cut. */
async function leaderBackend(): Promise<number | null> {
  const result = await db.pool.query<{ pid: number }>("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())");
  return result.rows[0]?.pid ?? null;
}

async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe("SequencerThread", () => {
  it("sequences what concurrent writers queue, from its own thread, and reports its election through the logger", async () => {
    const running = thread({ batchSize: 100 });
    await running.start();
    const ids = await enqueueConcurrently(db.pool, 16, 150);
    await running.drain();

    await expectIntactLog(db.pool, key, ids);
    expect(logged).toContainEqual({ level: "info", msg: "audit sequencer elected" });
  });

  it("keeps sequencing after its leader connection is killed: the worker steps down and is elected again", async () => {
    const running = thread();
    await running.start();
    const before = await enqueueConcurrently(db.pool, 4, 50);
    await running.drain();

    const pid = await leaderBackend();
    expect(pid).not.toBeNull();
    await db.pool.query("SELECT pg_terminate_backend($1)", [pid]);
    await until(async () => {
      const now = await leaderBackend();
      return now !== null && now !== pid;
    });
    const after = await enqueueConcurrently(db.pool, 4, 50);
    await running.drain();

    await expectIntactLog(db.pool, key, [...before, ...after]);
    expect(logged.filter((entry) => entry.msg === "audit sequencer elected")).toHaveLength(2);
    expect(logged).toContainEqual({ level: "warn", msg: "audit sequencer stepped down" });
  });

  it("frees leadership when stopped, so another process's sequencer takes over; drain() then refuses", async () => {
    const running = thread();
    await running.start();
    // Leadership is reported from the worker as it changes (metrics read it at each scrape).
    await until(() => running.isLeader);
    await running.stop();
    expect(running.isLeader).toBe(false);
    await expect(running.drain()).rejects.toThrow(/not running/);

    const other = new AuditSequencer({ pool: db.pool, key, origin: TEST_ORIGIN, intervalMs: 5 });
    await other.start();
    try {
      expect(other.isLeader).toBe(true);
    } finally {
      await other.stop();
    }
  });

  it("fails to start, leaving nothing running, when the database cannot be reached", async () => {
    const unreachable = thread({ databaseUrl: "postgresql://atomic@/atomic?host=/nonexistent-socket-dir" });
    await expect(unreachable.start()).rejects.toThrow(/audit sequencer could not start/);
    await expect(unreachable.drain()).rejects.toThrow(/not running/);
  });
});
