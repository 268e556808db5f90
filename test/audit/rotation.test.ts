import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeLeaf } from "../../src/audit/core/entry.js";
import { verifyHandover } from "../../src/audit/core/handover.js";
import { generateSigningKey, loadRetiredPublicKeys, publicJwk, publicKeyFromJwk, rotateSigningKey, type SigningKey } from "../../src/audit/core/keys.js";
import type { NoteVerifier } from "../../src/audit/core/checkpoint.js";
import { keyRotatedEvent } from "../../src/audit/events.js";
import { exportAudit } from "../../src/audit/store/exporter.js";
import { verifyExport } from "../../src/audit/verify/verify-export.js";
import { openAuditDatabase, sequenceEvents, type AuditDatabase } from "./support/audit-database.js";
import { requestEvent, TEST_ORIGIN } from "./support/events.js";

/**
 * A log that rotates its key half-way, end to end: 30 events signed by key A, an export E1 the auditor keeps the
 * checkpoint P of, the rotation (files and key.rotated event), it and 20 more events signed by key B, and export E2.
 */
const KEY_NAME = "atomic.test";
let db: AuditDatabase;
let scratch: string;
let keyA: SigningKey;
let keyB: SigningKey;
let retired: NoteVerifier[];
let previous: string;
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
});

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
    expect(await verifyExport(before, { publicKeyJwk: [publicJwk(keyA), publicJwk(keyB)] })).toMatchObject({ ok: true, from: 0, to: 30 });
    expect(await verifyExport(before, { publicKeyJwk: publicJwk(keyA) })).toMatchObject({ ok: false, code: "manifest_signature" });
    expect(await verifyExport(before, { publicKeyJwk: publicJwk(keyB) })).toMatchObject({ ok: false, code: "checkpoint_signature" });
  });
});
