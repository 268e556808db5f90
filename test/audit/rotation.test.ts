import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeLeaf } from "../../src/audit/core/entry.js";
import { verifyHandover } from "../../src/audit/core/handover.js";
import { generateSigningKey, loadRetiredPublicKeys, publicJwk, publicKeyFromJwk, rotateSigningKey, type SigningKey } from "../../src/audit/core/keys.js";
import { parseUnverifiedCheckpoint, signCheckpoint, type NoteVerifier } from "../../src/audit/core/checkpoint.js";
import { encodeLeaf, chainHash, type AuditEvent } from "../../src/audit/core/entry.js";
import { CompactRange, leafHash } from "../../src/audit/core/merkle.js";
import { AuditStateError, sequenceBatch } from "../../src/audit/store/batch.js";
import { enqueueAuditEvent } from "../../src/audit/store/queue.js";
import { keyIdentity } from "../../src/audit/core/key-identity.js";
import { keyRotatedEvent } from "../../src/audit/events.js";
import { exportAudit } from "../../src/audit/store/exporter.js";
import { AuditLogReader } from "../../src/audit/store/reader.js";
import { consistencyBody, verifyConsistencyProof } from "../../src/audit/verify/consistency-proof.js";
import { receiptBody, verifyReceipt } from "../../src/audit/verify/receipt.js";
import { sealExport, writeExportDir, type ExportFiles } from "../../src/audit/verify/testing/export-fixture.js";
import { verifyExport } from "../../src/audit/verify/verify-export.js";
import { openAuditDatabase, sequenceEvents, type AuditDatabase } from "./support/audit-database.js";
import { requestEvent, TEST_ORIGIN } from "./support/events.js";

/**
 * A log that rotates its key half-way, end to end: 30 events signed by key A, an export E1 the auditor keeps the
 * checkpoint P of, the rotation (files and key.rotated event), it and 20 more events signed by key B, and export E2;
 * then a second rotation, to key C, at leaf 51, and 15 more events.
 */
const KEY_NAME = "atomic.test";
let db: AuditDatabase;
let scratch: string;
let keyA: SigningKey;
let keyB: SigningKey;
let retired: NoteVerifier[];
let previous: string;
let keyC: SigningKey;
let retiredBoth: NoteVerifier[];
let secondRotation: AuditEvent;
let e2: string;
let exportCount = 0;

const outDir = () => join(scratch, `export-${exportCount++}`);

beforeAll(async () => {
  db = await openAuditDatabase();
  scratch = await mkdtemp(join(tmpdir(), "atomic-audit-rotation-"));
  const keyDir = join(scratch, "keys");
  keyA = generateSigningKey(keyDir, KEY_NAME);
  await sequenceEvents(db.pool, keyA, Array.from({ length: 30 }, () => requestEvent()), 10);
  const e1 = outDir();
  await exportAudit({ pool: db.pool, outDir: e1, key: keyA });
  previous = await readFile(join(e1, "checkpoint"), "utf8");

  const rotation = rotateSigningKey(keyDir, KEY_NAME);
  keyB = rotation.next;
  retired = loadRetiredPublicKeys(keyDir, KEY_NAME);
  // The CLI queues the event; the first sequencer after the restart logs it, signing with the new key.
  await sequenceEvents(db.pool, keyB, [keyRotatedEvent(TEST_ORIGIN, rotation), ...Array.from({ length: 20 }, () => requestEvent())], 10, retired);
  e2 = outDir();
  await exportAudit({ pool: db.pool, outDir: e2, key: keyB, retiredKeys: retired, from: 30, previousSize: 30 });

  const second = rotateSigningKey(keyDir, KEY_NAME);
  keyC = second.next;
  retiredBoth = loadRetiredPublicKeys(keyDir, KEY_NAME);
  secondRotation = keyRotatedEvent(TEST_ORIGIN, second);
  await sequenceEvents(db.pool, keyC, [secondRotation, ...Array.from({ length: 15 }, () => requestEvent())], 10, retiredBoth);
});

const idOf = (key: SigningKey) => keyIdentity(key.name, key.publicKey).keyId;
const allKeys = () => [publicJwk(keyA), publicJwk(keyB), publicJwk(keyC)];

/** The export in `dir` with its checkpoint signed again by `key` (same tree), and resealed: what a holder of `key` makes. */
async function resignedBy(dir: string, key: SigningKey): Promise<string> {
  const files: ExportFiles = new Map();
  for (const name of await readdir(dir)) files.set(name, await readFile(join(dir, name)));
  const tree = parseUnverifiedCheckpoint((files.get("checkpoint") as Buffer).toString("utf8"));
  files.set("checkpoint", Buffer.from(signCheckpoint(tree, key)));
  const manifest = JSON.parse(Buffer.from((files.get("manifest.jws") as Buffer).toString("latin1").trim().split(".")[1]!, "base64url").toString("utf8"));
  const forged = outDir();
  await writeExportDir(forged, await sealExport(files, key, { origin: manifest.origin, from: manifest.from, to: manifest.to }));
  return forged;
}

afterAll(async () => {
  await db.close();
  await rm(scratch, { recursive: true, force: true });
});

describe("audit key rotation", () => {
  it("verifies the export after the rotation against the checkpoint before it with both keys, not with the new one alone", async () => {
    expect(await verifyExport(e2, { publicKeyJwk: [publicJwk(keyA), publicJwk(keyB)], previousCheckpoint: previous })).toMatchObject({
      ok: true,
      from: 30,
      to: 51,
      consistency: { oldSize: 30, against: "previous-checkpoint" },
    });
    expect(await verifyExport(e2, { publicKeyJwk: publicJwk(keyB) })).toMatchObject({ ok: true });
    const newKeyOnly = await verifyExport(e2, { publicKeyJwk: [publicJwk(keyB)], previousCheckpoint: previous });
    expect(newKeyOnly).toMatchObject({ ok: false, code: "checkpoint_signature" });
    expect(!newKeyOnly.ok && newKeyOnly.reason).toMatch(/^the previous checkpoint: no signature by key/);
  });

  it("logs the rotation with a handover the old key signed over the new one", async () => {
    const leaves = (await readFile(join(e2, "entries.jsonl"))).toString("utf8").trimEnd().split("\n").map((line) => decodeLeaf(Buffer.from(line, "utf8")));
    const rotated = leaves.filter((leaf) => leaf.event.kind === "key.rotated");
    expect(rotated.map((leaf) => leaf.index)).toEqual([30]);
    const detail = rotated[0]!.event.detail as { previousKey: string; nextKey: string; handover: string };
    expect(detail.previousKey).toBe(publicJwk(keyA)["x"]);
    expect(detail.nextKey).toBe(publicJwk(keyB)["x"]);
    // An auditor holding only A's public JWK establishes B.
    const a = publicKeyFromJwk(publicJwk(keyA)).publicKey;
    expect(verifyHandover(TEST_ORIGIN, detail.nextKey, detail.handover, a)).toBe(true);
    expect(verifyHandover(TEST_ORIGIN, detail.nextKey, detail.handover, keyB.publicKey)).toBe(false);
  });

  it("still exports the log as it was before the rotation: checkpoint by the old key, manifest by the new", async () => {
    await expect(exportAudit({ pool: db.pool, outDir: outDir(), key: keyB, to: 30 })).rejects.toThrow(/no signature by key/);
    const before = outDir();
    expect(await exportAudit({ pool: db.pool, outDir: before, key: keyB, retiredKeys: retired, to: 30 })).toMatchObject({ from: 0, to: 30 });
    expect(await readFile(join(before, "checkpoint"), "utf8")).toBe(previous);
    expect(await verifyExport(before, { publicKeyJwk: [publicJwk(keyA), publicJwk(keyB)], retired: [`${idOf(keyA)}@30`] })).toMatchObject({ ok: true, from: 0, to: 30 });
    // Without saying which of the two keys was retired, the verifier cannot tell which one may sign later trees.
    expect(await verifyExport(before, { publicKeyJwk: [publicJwk(keyA), publicJwk(keyB)] })).toMatchObject({ ok: false, code: "key_unbounded" });
    expect(await verifyExport(before, { publicKeyJwk: publicJwk(keyA) })).toMatchObject({ ok: false, code: "manifest_signature" });
    expect(await verifyExport(before, { publicKeyJwk: publicJwk(keyB) })).toMatchObject({ ok: false, code: "checkpoint_signature" });
  });

  it("verifies the whole history with two rotations from index 0, and refuses a checkpoint the retired key signs past its rotation", async () => {
    const whole = outDir();
    expect(await exportAudit({ pool: db.pool, outDir: whole, key: keyC, retiredKeys: retiredBoth })).toMatchObject({ from: 0, to: 67 });
    expect(await verifyExport(whole, { publicKeyJwk: allKeys(), previousCheckpoint: previous })).toMatchObject({
      ok: true,
      from: 0,
      to: 67,
      retirements: [{ key: { keyId: idOf(keyA) }, index: 30 }, { key: { keyId: idOf(keyB) }, index: 51 }],
    });
    // Whoever obtained A after its rotation signs the same tree, or any other, with it.
    const forged = await resignedBy(whole, keyA);
    expect(await verifyExport(forged, { publicKeyJwk: allKeys(), previousCheckpoint: previous })).toMatchObject({
      ok: false,
      code: "key_retired",
      reason: expect.stringMatching(new RegExp(`^the checkpoint of 67 leaves is signed by key ${KEY_NAME} id ${idOf(keyA)} .*the key\\.rotated leaf at index 30 retired it`)),
    });
    // An export that starts after both rotation leaves: the auditor's --retired, from the verdict above, bounds A and B.
    const later = outDir();
    await exportAudit({ pool: db.pool, outDir: later, key: keyC, retiredKeys: retiredBoth, from: 55, previousSize: 51 });
    const bounds = [`${idOf(keyA)}@30`, `${idOf(keyB)}@51`];
    const kept51 = (await new AuditLogReader(db.pool).checkpointAt(51))!.note;
    expect(await verifyExport(later, { publicKeyJwk: allKeys(), retired: bounds, previousCheckpoint: kept51 })).toMatchObject({ ok: true, from: 55, to: 67 });
    expect(await verifyExport(later, { publicKeyJwk: allKeys(), previousCheckpoint: kept51 })).toMatchObject({ ok: false, code: "key_unbounded" });
    const laterForged = await resignedBy(later, keyB);
    expect(await verifyExport(laterForged, { publicKeyJwk: allKeys(), retired: bounds, previousCheckpoint: kept51 })).toMatchObject({ ok: false, code: "key_retired" });
  });

  it("verifies receipts and consistency proofs across the rotations given where each key was retired, and refuses a retired key's later checkpoint", async () => {
    const reader = new AuditLogReader(db.pool);
    const bounds = [`${idOf(keyA)}@30`, `${idOf(keyB)}@51`];
    const receipt = receiptBody((await reader.receipt(secondRotation.id))!);
    // The rotation leaf's own receipt bounds B; A still needs the auditor's word.
    expect(verifyReceipt(receipt, { publicKeyJwk: allKeys() })).toMatchObject({ ok: false, code: "key_unbounded" });
    expect(verifyReceipt(receipt, { publicKeyJwk: allKeys(), retired: [`${idOf(keyA)}@30`] })).toMatchObject({
      ok: true,
      index: 51,
      treeSize: 67,
      kind: "key.rotated",
      retirements: [{ key: { keyId: idOf(keyB) }, index: 51 }],
    });
    const tree = parseUnverifiedCheckpoint(receipt.checkpoint);
    expect(verifyReceipt({ ...receipt, checkpoint: signCheckpoint(tree, keyB) }, { publicKeyJwk: allKeys(), retired: [`${idOf(keyA)}@30`] })).toMatchObject({ ok: false, code: "key_retired" });

    const linked = await reader.consistency(30);
    const proof = consistencyBody({ old: linked.old, new: linked.new, hashes: linked.proof });
    expect(verifyConsistencyProof(proof, { publicKeyJwk: allKeys(), retired: bounds, previousCheckpoint: previous })).toMatchObject({ ok: true, oldSize: 30, newSize: 67, held: true });
    const forged = { ...proof, new_checkpoint: signCheckpoint(parseUnverifiedCheckpoint(proof.new_checkpoint), keyA) };
    expect(verifyConsistencyProof(forged, { publicKeyJwk: allKeys(), retired: bounds, previousCheckpoint: previous })).toMatchObject({
      ok: false,
      code: "key_retired",
      reason: expect.stringContaining("you gave it as retired at leaf 30"),
    });
  });
});

describe("the sequencer after a rotation", () => {
  it("extends a retired key's last checkpoint only while its rotation waits in the queue, never a later one a holder of it wrote", async () => {
    const own = await openAuditDatabase();
    const dir = await mkdtemp(join(tmpdir(), "atomic-audit-sequencer-rotation-"));
    try {
      const old = generateSigningKey(join(dir, "keys"), KEY_NAME);
      await sequenceEvents(own.pool, old, Array.from({ length: 5 }, () => requestEvent()), 10);
      const rotation = rotateSigningKey(join(dir, "keys"), KEY_NAME);
      const retiredKeys = loadRetiredPublicKeys(join(dir, "keys"), KEY_NAME);
      // The first batch after the restart: the last checkpoint is the old key's, its rotation queued. Signed on.
      await sequenceEvents(own.pool, rotation.next, [keyRotatedEvent(TEST_ORIGIN, rotation), ...Array.from({ length: 3 }, () => requestEvent())], 10, retiredKeys);

      // Whoever obtained the old key, with write access to the database, appends leaves and signs them with it.
      const state = (await own.pool.query<{ size: string; frontier: Buffer[]; chain_hash: Buffer }>("SELECT size, frontier, chain_hash FROM audit_sequencer")).rows[0]!;
      let range = CompactRange.from(Number(state.size), state.frontier);
      let chain = state.chain_hash;
      for (const event of [requestEvent(), requestEvent()]) {
        const leaf = encodeLeaf(range.size, chain, event);
        await own.pool.query("INSERT INTO audit_log (idx, event_id, leaf, leaf_hash, chain_hash, event_time) VALUES ($1, $2, $3, $4, $5, $6)", [range.size, event.id, leaf, leafHash(leaf), chainHash(leaf), event.time]);
        range = range.append(leafHash(leaf));
        chain = chainHash(leaf);
      }
      await own.pool.query("UPDATE audit_sequencer SET size = $1, frontier = $2::bytea[], chain_hash = $3", [range.size, range.hashes, chain]);
      await own.pool.query("INSERT INTO audit_checkpoints (size, root, note) VALUES ($1, $2, $3)", [range.size, range.root(), signCheckpoint({ origin: TEST_ORIGIN, size: range.size, root: range.root() }, old)]);

      // The new key must not sign on over it: that would put the log's own signature on the forger's leaves.
      await enqueueAuditEvent(own.pool, requestEvent());
      const client = await own.pool.connect();
      try {
        const epoch = Number((await client.query<{ epoch: string }>("UPDATE audit_sequencer SET epoch = epoch + 1 RETURNING epoch")).rows[0]!.epoch);
        const batch = sequenceBatch(client, { epoch, batchSize: 10, signer: rotation.next, trusted: [rotation.next, ...retiredKeys], origin: TEST_ORIGIN });
        await expect(batch).rejects.toBeInstanceOf(AuditStateError);
        await expect(batch).rejects.toThrow(/signed by a retired key whose rotation is not waiting in the queue/);
      } finally {
        client.release();
      }
      expect(Number((await own.pool.query<{ size: string }>("SELECT max(size) AS size FROM audit_checkpoints")).rows[0]!.size)).toBe(range.size);
    } finally {
      await own.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("stops a sequencer still running with the retiring key short of its own rotation leaf, which the new key then logs", async () => {
    const own = await openAuditDatabase();
    const dir = await mkdtemp(join(tmpdir(), "atomic-audit-running-rotation-"));
    try {
      const old = generateSigningKey(join(dir, "keys"), KEY_NAME);
      await sequenceEvents(own.pool, old, Array.from({ length: 5 }, () => requestEvent()), 10);
      // keys rotate while a gateway still runs with the old key (the docs say to stop it first; nothing forces it).
      const rotation = rotateSigningKey(join(dir, "keys"), KEY_NAME);
      for (const event of [requestEvent(), keyRotatedEvent(TEST_ORIGIN, rotation), requestEvent()]) await enqueueAuditEvent(own.pool, event);
      const runningOld = async () => {
        const client = await own.pool.connect();
        try {
          const epoch = Number((await client.query<{ epoch: string }>("UPDATE audit_sequencer SET epoch = epoch + 1 RETURNING epoch")).rows[0]!.epoch);
          return await sequenceBatch(client, { epoch, batchSize: 10, signer: old, trusted: [old], origin: TEST_ORIGIN });
        } finally {
          client.release();
        }
      };
      // The event before the rotation, and no further: the old key never signs a tree holding its own retirement.
      expect(await runningOld()).toMatchObject({ appended: 1, size: 6 });
      await expect(runningOld()).rejects.toThrow(/retires this sequencer's own signing key/);
      // The gateway restarted with the new key logs the rotation and what follows, and the whole log verifies.
      await sequenceEvents(own.pool, rotation.next, [], 10, loadRetiredPublicKeys(join(dir, "keys"), KEY_NAME));
      const whole = join(dir, "export");
      expect(await exportAudit({ pool: own.pool, outDir: whole, key: rotation.next, retiredKeys: loadRetiredPublicKeys(join(dir, "keys"), KEY_NAME) })).toMatchObject({ from: 0, to: 8 });
      expect(await verifyExport(whole, { publicKeyJwk: [publicJwk(old), publicJwk(rotation.next)] })).toMatchObject({ ok: true });
    } finally {
      await own.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
