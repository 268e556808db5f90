import { copyFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import type { Pool } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signCheckpoint, verifyCheckpoint } from "../../src/audit/core/checkpoint.js";
import { decodeLeaf, type AuditEvent } from "../../src/audit/core/entry.js";
import {
  CompactRange,
  consistencyProof,
  leafHash,
  nodeHash,
  rootFromLeafHashes,
  verifyConsistency,
  verifyInclusion,
} from "../../src/audit/core/merkle.js";
import { AuditLogReader } from "../../src/audit/store/reader.js";
import { createPool } from "../../src/store/postgres/database.js";
import { migrate } from "../../src/store/postgres/migrate.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { openAuditDatabase, sequenceEvents, type AuditDatabase } from "./support/audit-database.js";
import { requestEvent, TEST_ORIGIN, testSigningKey } from "./support/events.js";
import { expectIntactLog } from "./support/log-invariants.js";

const key = testSigningKey();
const MIGRATIONS = fileURLToPath(new URL("../../src/store/postgres/migrations/", import.meta.url));

// ---------------------------------------------------------------------------------------------------------------
// References computed here from every leaf hash, without the code under test.
// ---------------------------------------------------------------------------------------------------------------

async function allLeafHashes(pool: Pool): Promise<Buffer[]> {
  return (await pool.query<{ leaf_hash: Buffer }>("SELECT leaf_hash FROM audit_log ORDER BY idx")).rows.map((row) => row.leaf_hash);
}

/** Every complete aligned subtree at levels 8, 16, …, recomputed from the leaf hashes: "level:idx" → hex. */
function recomputedNodes(leafHashes: readonly Buffer[]): Record<string, string> {
  const nodes: Record<string, string> = {};
  let row = leafHashes;
  for (let level = 1; row.length >= 2; level++) {
    const next: Buffer[] = [];
    for (let i = 0; i + 1 < row.length; i += 2) next.push(nodeHash(row[i] as Buffer, row[i + 1] as Buffer));
    row = next;
    if (level % 8 === 0) row.forEach((hash, idx) => (nodes[`${level}:${idx}`] = hash.toString("hex")));
  }
  return nodes;
}

async function storedNodes(pool: Pool): Promise<Record<string, string>> {
  const rows = (await pool.query<{ level: number; idx: string; hash: Buffer }>("SELECT level, idx, hash FROM audit_tree_nodes")).rows;
  return Object.fromEntries(rows.map((row) => [`${row.level}:${row.idx}`, row.hash.toString("hex")]));
}

/** PATH(m, D[n]) of RFC 9162 §2.1.3.1 from every leaf hash, as the RFC writes it. */
function pathFromLeaves(m: number, leafHashes: readonly Buffer[]): Buffer[] {
  if (leafHashes.length === 1) return [];
  let k = 1;
  while (k * 2 < leafHashes.length) k *= 2;
  return m < k
    ? [...pathFromLeaves(m, leafHashes.slice(0, k)), rootFromLeafHashes(leafHashes.slice(k))]
    : [...pathFromLeaves(m - k, leafHashes.slice(k)), rootFromLeafHashes(leafHashes.slice(0, k))];
}

const hex = (hashes: readonly Buffer[]) => hashes.map((hash) => hash.toString("hex"));

/** Checks the receipt of each event against its signed checkpoint and the proof computed from every leaf. */
async function expectReceiptsVerify(reader: AuditLogReader, events: readonly AuditEvent[], leafHashes: readonly Buffer[]): Promise<void> {
  for (const event of events) {
    const receipt = (await reader.receipt(event.id))!;
    const signed = verifyCheckpoint(receipt.checkpoint.note, { name: key.name, publicKey: key.publicKey });
    expect(decodeLeaf(receipt.leaf).event.id).toBe(event.id);
    expect(leafHash(receipt.leaf).equals(leafHashes[receipt.index] as Buffer)).toBe(true);
    expect(verifyInclusion(receipt.index, signed.size, leafHash(receipt.leaf), receipt.proof, signed.root)).toBe(true);
    expect(hex(receipt.proof)).toEqual(hex(pathFromLeaves(receipt.index, leafHashes.slice(0, signed.size))));
  }
}

/** Rows that look like leaves to the tree (the leaf bytes are not events), appended without the sequencer. */
async function appendSyntheticLeaves(pool: Pool, size: number): Promise<Buffer[]> {
  await pool.query(
    `INSERT INTO audit_log (idx, event_id, leaf, leaf_hash, chain_hash, event_time)
     SELECT i, gen_random_uuid(), convert_to('synthetic ' || i, 'UTF8'), sha256('\\x00'::bytea || convert_to('synthetic ' || i, 'UTF8')),
            sha256(convert_to('chain ' || i, 'UTF8')), now()
       FROM generate_series(0, $1::bigint - 1) AS i`,
    [size],
  );
  const hashes = Array.from({ length: size }, (_, i) => leafHash(Buffer.from(`synthetic ${i}`)));
  // The sequencer continues from its row: the right edge of these leaves, as a sequencer would have left it.
  const range = CompactRange.fromLeafHashes(hashes);
  await pool.query("UPDATE audit_sequencer SET size = $1::bigint, frontier = $2::bytea[], chain_hash = sha256(convert_to('chain ' || ($1::bigint - 1), 'UTF8'))", [
    size,
    range.hashes,
  ]);
  // And the checkpoint it would have signed over them: the next batch must extend it.
  const root = range.root();
  await pool.query("INSERT INTO audit_checkpoints (size, root, note) VALUES ($1, $2, $3)", [size, root, signCheckpoint({ origin: TEST_ORIGIN, size, root }, key)]);
  return hashes;
}

/** A database migrated as a gateway that predates the stored subtree hashes left it: 0001 and 0002 only. */
async function openPre0003Database(): Promise<{ database: TestDatabase; pool: Pool; close(): Promise<void> }> {
  const folder = await mkdtemp(join(tmpdir(), "atomic-migrations-"));
  for (const file of ["0001_init.sql", "0002_audit.sql"]) await copyFile(join(MIGRATIONS, file), join(folder, file));
  const database = await createTestDatabase();
  const pool = createPool(database.url, { max: 8 });
  expect(await migrate(pool, { migrationsDir: folder })).toEqual({ applied: ["0001_init.sql", "0002_audit.sql"] });
  await rm(folder, { recursive: true });
  return {
    database,
    pool,
    close: async () => {
      await pool.end();
      await database.drop();
    },
  };
}

describe("a log sequenced in batches of 37", () => {
  const events = Array.from({ length: 3000 }, () => requestEvent());
  let db: AuditDatabase;
  let reader: AuditLogReader;
  let leafHashes: Buffer[];

  beforeAll(async () => {
    db = await openAuditDatabase();
    await sequenceEvents(db.pool, key, events, 37);
    reader = new AuditLogReader(db.pool);
    leafHashes = await allLeafHashes(db.pool);
  });

  afterAll(async () => {
    await db.close();
  });

  it("stores exactly the hash of every complete 256-leaf subtree, including those straddling batches", async () => {
    expect(leafHashes).toHaveLength(3000);
    const expected = recomputedNodes(leafHashes);
    expect(Object.keys(expected)).toHaveLength(11);
    expect(await storedNodes(db.pool)).toEqual(expected);
    await expectIntactLog(db.pool, key, events.map((event) => event.id));
  });

  it("gives receipts whose proofs verify against the signed root and equal the proof from every leaf", async () => {
    const indexes = new Set([0, 1, 36, 37, 254, 255, 256, 257, 511, 512, 1023, 1024, 2815, 2816, 2999]);
    for (let i = 3; i < 3000; i += 41) indexes.add(i);
    await expectReceiptsVerify(reader, [...indexes].map((i) => events[i]!), leafHashes);
  });

  it("proves consistency between stored checkpoints of any two sizes", async () => {
    const sizes = [37, 222, 259, 296, 518, 999, 2035, 2997, 3000];
    const checkpoints = await Promise.all(sizes.map(async (size) => (await reader.checkpointAtOrBelow(size))!));
    expect(checkpoints.map((checkpoint) => checkpoint.size)).toEqual(sizes);
    for (const older of checkpoints) {
      for (const newer of checkpoints.filter((checkpoint) => checkpoint.size >= older.size)) {
        const proof = await reader.consistencyProof(older.size, newer.size);
        expect(verifyConsistency(older.size, newer.size, older.root, newer.root, proof)).toBe(true);
        expect(hex(proof)).toEqual(hex(consistencyProof(older.size, leafHashes.slice(0, newer.size))));
      }
    }
    // Sizes without a checkpoint, against roots from every leaf.
    for (const [oldSize, newSize] of [[1, 2], [255, 257], [256, 2049], [700, 2900]] as const) {
      const proof = await reader.consistencyProof(oldSize, newSize);
      const oldRoot = rootFromLeafHashes(leafHashes.slice(0, oldSize));
      const newRoot = rootFromLeafHashes(leafHashes.slice(0, newSize));
      expect(verifyConsistency(oldSize, newSize, oldRoot, newRoot, proof)).toBe(true);
    }
  });

  it("refuses a proof for a tree larger than the log instead of returning a wrong one", async () => {
    await expect(reader.consistencyProof(100, 3100)).rejects.toThrow(/has no (leaf|hash of the subtree)/);
    await expect(reader.consistencyProof(100, 3001)).rejects.toThrow(/audit log has no leaf 3000/);
    await expect(reader.consistencyProof(3001, 3000)).rejects.toThrow(RangeError);
  });

  it("refuses to change or remove a stored hash, whoever asks", async () => {
    const refusals = [
      "UPDATE audit_tree_nodes SET hash = sha256(hash) WHERE level = 8 AND idx = 3",
      "DELETE FROM audit_tree_nodes WHERE level = 8 AND idx = 10",
      "TRUNCATE audit_tree_nodes",
    ];
    for (const sql of refusals) {
      await expect(db.pool.query(sql)).rejects.toMatchObject({ code: "42501", message: expect.stringMatching(/append-only/) });
    }
    expect(await storedNodes(db.pool)).toEqual(recomputedNodes(leafHashes));
    // And a row it would not have stored: a level that is not a multiple of 8, or not a hash.
    await expect(db.pool.query("INSERT INTO audit_tree_nodes (level, idx, hash) VALUES (4, 100, sha256(''))")).rejects.toMatchObject({ code: "23514" });
    await expect(db.pool.query("INSERT INTO audit_tree_nodes (level, idx, hash) VALUES (8, 100, '\\x00')")).rejects.toMatchObject({ code: "23514" });
  });
});

describe("a log whose leaves have no stored subtree hashes", () => {
  it("fails the proofs that need one, naming the subtree, and still proves what leaves alone prove", async () => {
    const db = await openAuditDatabase();
    try {
      const leafHashes = await appendSyntheticLeaves(db.pool, 300);
      const reader = new AuditLogReader(db.pool);
      await expect(reader.consistencyProof(257, 300)).rejects.toThrow(
        /audit_tree_nodes has no hash of the subtree of leaves \[0, 256\) \(level 8, index 0\)/,
      );
      const proof = await reader.consistencyProof(3, 200);
      expect(verifyConsistency(3, 200, rootFromLeafHashes(leafHashes.slice(0, 3)), rootFromLeafHashes(leafHashes.slice(0, 200)), proof)).toBe(true);
    } finally {
      await db.close();
    }
  });
});

describe("migration 0003 on a log sequenced before it", () => {
  it("backfills the hashes of the events a sequencer logged, and the sequencer carries on from there", async () => {
    const db = await openPre0003Database();
    try {
      // This build's sequencer stores subtree hashes; under 0002 there is no table for them. Its connections find
      // one in a scratch schema, dropped afterwards: what is left is what a sequencer of 0002's time left.
      await db.pool.query("CREATE SCHEMA scratch; CREATE TABLE scratch.audit_tree_nodes (level smallint, idx bigint, hash bytea)");
      const legacy = new pg.Pool({ connectionString: db.database.url, max: 8, options: "-c search_path=public,scratch" });
      const before = Array.from({ length: 1000 }, () => requestEvent());
      try {
        await sequenceEvents(legacy, key, before, 37);
      } finally {
        await legacy.end();
      }
      expect(Number((await db.pool.query<{ n: string }>("SELECT count(*) AS n FROM scratch.audit_tree_nodes")).rows[0]!.n)).toBe(3);
      await db.pool.query("DROP SCHEMA scratch CASCADE");
      expect((await db.pool.query("SELECT to_regclass('audit_tree_nodes') AS t")).rows[0].t).toBeNull();

      expect((await migrate(db.pool)).applied[0]).toBe("0003_audit_tree.sql");
      const leafHashes = await allLeafHashes(db.pool);
      expect(await storedNodes(db.pool)).toEqual(recomputedNodes(leafHashes));
      expect(Object.keys(await storedNodes(db.pool))).toHaveLength(3);
      const reader = new AuditLogReader(db.pool);
      await expectReceiptsVerify(reader, [0, 255, 256, 511, 767, 768, 999].map((i) => before[i]!), leafHashes);

      const after = Array.from({ length: 600 }, () => requestEvent());
      await sequenceEvents(db.pool, key, after, 37);
      const allHashes = await allLeafHashes(db.pool);
      expect(await storedNodes(db.pool)).toEqual(recomputedNodes(allHashes));
      expect(Object.keys(await storedNodes(db.pool))).toHaveLength(6);
      await expectReceiptsVerify(reader, [before[5]!, before[999]!, after[0]!, after[599]!], allHashes);
      await expectIntactLog(db.pool, key, [...before, ...after].map((event) => event.id));
    } finally {
      await db.close();
    }
  });

  it("backfills level 16 on a log of 2^17 - 40 leaves; the sequencer then completes nodes at levels 8 and 16", async () => {
    const db = await openPre0003Database();
    try {
      const synthetic = 2 ** 17 - 40;
      const leafHashesBefore = await appendSyntheticLeaves(db.pool, synthetic);
      expect((await migrate(db.pool)).applied[0]).toBe("0003_audit_tree.sql");
      const backfilled = await storedNodes(db.pool);
      expect(backfilled).toEqual(recomputedNodes(leafHashesBefore));
      expect(Object.keys(backfilled).filter((node) => node.startsWith("16:"))).toEqual(["16:0"]);
      expect(Object.keys(backfilled)).toHaveLength(511 + 1);

      // 37 then 37 leaves: the second batch completes [2^17 - 256, 2^17) and [2^16, 2^17), begun by the first.
      const events = Array.from({ length: 100 }, () => requestEvent());
      await sequenceEvents(db.pool, key, events, 37);
      const leafHashes = await allLeafHashes(db.pool);
      expect(leafHashes).toHaveLength(synthetic + 100);
      const nodes = await storedNodes(db.pool);
      expect(nodes).toEqual(recomputedNodes(leafHashes));
      expect(nodes["16:1"]).toBeDefined();
      expect(nodes["8:511"]).toBeDefined();

      const reader = new AuditLogReader(db.pool);
      await expectReceiptsVerify(reader, [events[0]!, events[39]!, events[40]!, events[99]!], leafHashes);
      const size = leafHashes.length;
      const root = rootFromLeafHashes(leafHashes);
      for (const oldSize of [1, 300, 65_536, 65_537, synthetic, 2 ** 17, size - 1]) {
        const proof = await reader.consistencyProof(oldSize, size);
        expect(verifyConsistency(oldSize, size, rootFromLeafHashes(leafHashes.slice(0, oldSize)), root, proof)).toBe(true);
      }
    } finally {
      await db.close();
    }
  });
});
