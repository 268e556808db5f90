import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AuditStateError, FencedError, SignedHead, sequenceBatch } from "../../src/audit/store/batch.js";
import { enqueueAuditEvent } from "../../src/audit/store/queue.js";
import { AuditSequencer, type AuditSequencerOptions } from "../../src/audit/store/sequencer.js";
import { countRows, enqueueConcurrently, openAuditDatabase, type AuditDatabase } from "./support/audit-database.js";
import { requestEvent, TEST_ORIGIN, testSigningKey } from "./support/events.js";
import { expectIntactLog } from "./support/log-invariants.js";

const key = testSigningKey();
let db: AuditDatabase;
let sequencers: AuditSequencer[];

beforeEach(async () => {
  db = await openAuditDatabase();
  sequencers = [];
});

afterEach(async () => {
  await Promise.all(sequencers.map((sequencer) => sequencer.stop()));
  await db.close();
});

function sequencer(options: Partial<AuditSequencerOptions> = {}): AuditSequencer {
  const created = new AuditSequencer({ pool: db.pool, key, origin: TEST_ORIGIN, intervalMs: 5, electionIntervalMs: 20, ...options });
  sequencers.push(created);
  return created;
}

async function currentEpoch(): Promise<number> {
  return Number((await db.pool.query<{ epoch: string }>("SELECT epoch FROM audit_sequencer")).rows[0]!.epoch);
}

async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe("AuditSequencer", () => {
  it("logs every event from 16 concurrent writers exactly once, contiguous, chained and checkpointed", async () => {
    const running = sequencer({ batchSize: 200 });
    await running.start();
    expect(running.isLeader).toBe(true);

    const ids = await enqueueConcurrently(db.pool, 16, 300);
    await running.drain();

    expect(await countRows(db.pool, "audit_queue")).toBe(0);
    await expectIntactLog(db.pool, key, ids);
  });

  it("lets one of two sequencers started at once lead, and the standby take over when the leader stops", async () => {
    const first = sequencer();
    const second = sequencer();
    await Promise.all([first.start(), second.start()]);
    expect([first.isLeader, second.isLeader].sort()).toEqual([false, true]);
    const [leader, standby] = first.isLeader ? [first, second] : [second, first];

    let bothLed = false;
    const watch = setInterval(() => {
      bothLed ||= first.isLeader && second.isLeader;
    }, 2);
    const before = await enqueueConcurrently(db.pool, 8, 150);
    await leader.drain();
    clearInterval(watch);
    expect(bothLed).toBe(false);
    expect(standby.isLeader).toBe(false);
    await expectIntactLog(db.pool, key, before);

    const leaderEpoch = leader.epoch!;
    await leader.stop();
    const after = await enqueueConcurrently(db.pool, 8, 150);
    await standby.drain();
    expect(standby.isLeader).toBe(true);
    expect(standby.epoch).toBeGreaterThan(leaderEpoch);
    expect(await currentEpoch()).toBe(standby.epoch);
    await expectIntactLog(db.pool, key, [...before, ...after]);
  });

  it("steps down when another leader's epoch appears in the table, and sequences again once re-elected", async () => {
    const running = sequencer();
    await running.start();
    const elected = running.epoch!;
    // What a new leader does on election, done here as a superuser would, while this one still holds the lock.
    await db.pool.query("UPDATE audit_sequencer SET epoch = epoch + 1");

    await until(() => running.epoch === elected + 2);
    const ids = await enqueueConcurrently(db.pool, 4, 50);
    await running.drain();
    await expectIntactLog(db.pool, key, ids);
  });

  it("drops a re-queued event whose id is already in the log instead of logging it twice", async () => {
    const running = sequencer();
    await running.start();
    const event = requestEvent();
    await enqueueAuditEvent(db.pool, event);
    await running.drain();
    // Once sequenced the id has left the queue, so the queue's own key no longer stops a retry.
    await enqueueAuditEvent(db.pool, event);
    expect(await countRows(db.pool, "audit_queue")).toBe(1);
    await running.drain();

    expect(await countRows(db.pool, "audit_queue")).toBe(0);
    await expectIntactLog(db.pool, key, [event.id]);
  });

  it("refuses drain() on a sequencer that is not running", async () => {
    await expect(sequencer().drain()).rejects.toThrow(/not running/);
  });
});

describe("sequenceBatch", () => {
  it("refuses to commit for a leader whose epoch was superseded, leaving queue and log untouched", async () => {
    const client = await db.pool.connect();
    try {
      const staleEpoch = Number((await client.query<{ epoch: string }>("UPDATE audit_sequencer SET epoch = epoch + 1 RETURNING epoch")).rows[0]!.epoch);
      const ids = await enqueueConcurrently(db.pool, 1, 10);
      await db.pool.query("UPDATE audit_sequencer SET epoch = epoch + 1");
      const batch = { batchSize: 100, signer: key, origin: TEST_ORIGIN };

      await expect(sequenceBatch(client, { ...batch, epoch: staleEpoch })).rejects.toBeInstanceOf(FencedError);
      expect(await countRows(db.pool, "audit_log")).toBe(0);
      expect(await countRows(db.pool, "audit_queue")).toBe(10);

      expect(await sequenceBatch(client, { ...batch, epoch: staleEpoch + 1 })).toEqual({ appended: 10, duplicates: 0, size: 10 });
      await expectIntactLog(db.pool, key, ids);
    } finally {
      client.release();
    }
  });

  it("signs nothing over a sequencer state changed outside the sequencer, whether it remembers what it signed or reads it", async () => {
    await enqueueConcurrently(db.pool, 1, 10);
    const client = await db.pool.connect();
    try {
      const epoch = Number((await client.query<{ epoch: string }>("UPDATE audit_sequencer SET epoch = epoch + 1 RETURNING epoch")).rows[0]!.epoch);
      const head = new SignedHead();
      const batch = { epoch, batchSize: 100, signer: key, origin: TEST_ORIGIN };
      expect(await sequenceBatch(client, { ...batch, head })).toEqual({ appended: 10, duplicates: 0, size: 10 });
      const checkpoints = await countRows(db.pool, "audit_checkpoints");
      const tamperings = [
        // The right edge, by a plain UPDATE: the next checkpoint would not extend the last (the log's key signing a fork).
        "UPDATE audit_sequencer SET frontier[1] = sha256('forged'::bytea)",
        // The last chain link: the next leaf would link to a history that is not the log's.
        "UPDATE audit_sequencer SET chain_hash = sha256('forged'::bytea)",
        // A size with its edge left as it was.
        "UPDATE audit_sequencer SET size = 9",
      ];
      for (const tampering of tamperings) {
        const saved = (await db.pool.query("SELECT size, frontier, chain_hash FROM audit_sequencer")).rows[0];
        await db.pool.query(tampering);
        await enqueueConcurrently(db.pool, 1, 3);
        await expect(sequenceBatch(client, { ...batch, head }), tampering).rejects.toBeInstanceOf(AuditStateError);
        await expect(sequenceBatch(client, batch), tampering).rejects.toBeInstanceOf(AuditStateError);
        expect(await countRows(db.pool, "audit_checkpoints")).toBe(checkpoints);
        await db.pool.query("UPDATE audit_sequencer SET size = $1, frontier = $2, chain_hash = $3", [saved.size, saved.frontier, saved.chain_hash]);
      }
      // Put back, the state describes the signed tree again and sequencing goes on.
      expect((await sequenceBatch(client, { ...batch, head })).size).toBe(19);
    } finally {
      client.release();
    }
  });

  it("takes the oldest events first and at most batchSize of them, signing one checkpoint per batch", async () => {
    const ids = await enqueueConcurrently(db.pool, 1, 25);
    const client = await db.pool.connect();
    try {
      const epoch = Number((await client.query<{ epoch: string }>("UPDATE audit_sequencer SET epoch = epoch + 1 RETURNING epoch")).rows[0]!.epoch);
      const batch = { epoch, batchSize: 10, signer: key, origin: TEST_ORIGIN };
      const sizes = [];
      for (let i = 0; i < 4; i++) sizes.push((await sequenceBatch(client, batch)).size);
      expect(sizes).toEqual([10, 20, 25, 25]);
    } finally {
      client.release();
    }
    const logged = (await db.pool.query<{ event_id: string }>("SELECT event_id FROM audit_log ORDER BY idx")).rows;
    expect(logged.map((row) => row.event_id)).toEqual(ids);
    expect((await db.pool.query<{ size: string }>("SELECT size FROM audit_checkpoints ORDER BY size")).rows.map((row) => row.size)).toEqual([
      "10",
      "20",
      "25",
    ]);
    await expectIntactLog(db.pool, key, ids);
  });
});
