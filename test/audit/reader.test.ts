import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyCheckpoint } from "../../src/audit/core/checkpoint.js";
import { decodeLeaf } from "../../src/audit/core/entry.js";
import { CompactRange, leafHash, verifyConsistency, verifyInclusion } from "../../src/audit/core/merkle.js";
import { enqueueAuditEvent } from "../../src/audit/store/queue.js";
import { publicJwk } from "../../src/audit/core/keys.js";
import { AuditLogReader } from "../../src/audit/store/reader.js";
import { consistencyBody, verifyConsistencyProof } from "../../src/audit/verify/consistency-proof.js";
import { receiptBody, verifyReceipt } from "../../src/audit/verify/receipt.js";
import { openAuditDatabase, sequenceEvents, type AuditDatabase } from "./support/audit-database.js";
import { requestEvent, TEST_ORIGIN, testSigningKey } from "./support/events.js";

const key = testSigningKey();
const events = Array.from({ length: 300 }, () => requestEvent());
let db: AuditDatabase;
let reader: AuditLogReader;

beforeAll(async () => {
  db = await openAuditDatabase();
  await sequenceEvents(db.pool, key, events, 50);
  reader = new AuditLogReader(db.pool);
});

afterAll(async () => {
  await db.close();
});

describe("AuditLogReader.receipt", () => {
  it("proves a sequenced event's leaf is in the latest signed tree", async () => {
    const event = events[137]!;
    const receipt = (await reader.receipt(event.id))!;

    expect(receipt.index).toBe(137);
    expect(decodeLeaf(receipt.leaf).event).toEqual(event);
    const signed = verifyCheckpoint(receipt.checkpoint.note, { name: key.name, publicKey: key.publicKey });
    expect(signed).toEqual({ origin: TEST_ORIGIN, size: 300, root: receipt.checkpoint.root });
    expect(verifyInclusion(receipt.index, signed.size, leafHash(receipt.leaf), receipt.proof, signed.root)).toBe(true);
  });

  it("proves inclusion in an earlier signed tree the auditor holds, and refuses a size never signed or one before the event", async () => {
    const event = events[137]!;
    const receipt = (await reader.receipt(event.id, { treeSize: 150 }))!;
    expect(receipt.checkpoint.size).toBe(150);
    const signed = verifyCheckpoint(receipt.checkpoint.note, { name: key.name, publicKey: key.publicKey });
    expect(verifyInclusion(137, 150, leafHash(receipt.leaf), receipt.proof, signed.root)).toBe(true);
    // The proof is the one a verifier checks against that very checkpoint: as the offline verifier does.
    const verdict = verifyReceipt(receiptBody(receipt), { publicKeyJwk: publicJwk(key), heldCheckpoint: receipt.checkpoint.note });
    expect(verdict).toMatchObject({ ok: true, index: 137, treeSize: 150, held: true });

    await expect(reader.receipt(event.id, { treeSize: 149 })).rejects.toMatchObject({ reason: "no_checkpoint" });
    await expect(reader.receipt(event.id, { treeSize: 100 })).rejects.toMatchObject({ reason: "not_in_tree", message: expect.stringContaining("leaf 137") });
    expect(await reader.receipt(requestEvent().id, { treeSize: 150 })).toBeNull();
  });

  it("has none for an event still queued, an unknown id, or something that is not an id", async () => {
    const queued = requestEvent();
    await enqueueAuditEvent(db.pool, queued);
    expect(await reader.receipt(queued.id)).toBeNull();
    expect(await reader.receipt(requestEvent().id)).toBeNull();
    expect(await reader.receipt("'; DROP TABLE audit_log; --")).toBeNull();
  });
});

describe("AuditLogReader", () => {
  it("finds the checkpoint at or below a size", async () => {
    expect((await reader.checkpointAtOrBelow(149))?.size).toBe(100);
    expect((await reader.checkpointAtOrBelow(150))?.size).toBe(150);
    expect(await reader.checkpointAtOrBelow(49)).toBeNull();
    expect((await reader.checkpointAt(150))?.size).toBe(150);
    expect(await reader.checkpointAt(149)).toBeNull();
    expect((await reader.checkpointAbove(149))?.size).toBe(150);
    expect((await reader.checkpointAbove(150))?.size).toBe(200);
    expect(await reader.checkpointAbove(300)).toBeNull();
    expect((await reader.latestCheckpoint())?.size).toBe(300);
  });

  it("proves each stored checkpoint's tree extends an earlier one", async () => {
    const older = (await reader.checkpointAtOrBelow(100))!;
    const newer = (await reader.checkpointAtOrBelow(250))!;
    const proof = await reader.consistencyProof(older.size, newer.size);
    expect(verifyConsistency(older.size, newer.size, older.root, newer.root, proof)).toBe(true);
  });

  it("gives two signed trees and the proof between them, which the offline verifier accepts", async () => {
    const between = await reader.consistency(100, 250);
    expect([between.old.size, between.new.size]).toEqual([100, 250]);
    const body = consistencyBody({ old: between.old, new: between.new, hashes: between.proof });
    expect(verifyConsistencyProof(body, { publicKeyJwk: publicJwk(key), previousCheckpoint: between.old.note })).toMatchObject({ ok: true, oldSize: 100, newSize: 250, held: true });
    expect((await reader.consistency(100)).new.size).toBe(300);
    expect((await reader.consistency(300)).proof).toEqual([]);
    await expect(reader.consistency(101)).rejects.toMatchObject({ reason: "no_checkpoint" });
    await expect(reader.consistency(100, 99)).rejects.toMatchObject({ reason: "no_checkpoint" });
    await expect(reader.consistency(250, 100)).rejects.toMatchObject({ reason: "backwards" });
  });

  it("streams leaves page by page, each followed by a newline", async () => {
    const smallPages = new AuditLogReader(db.pool, { leavesPerPage: 7 });
    const pages: string[] = [];
    for await (const page of smallPages.leafLines(10, 40)) pages.push(page.lines.toString("utf8"));
    expect(pages).toHaveLength(5);
    const lines = pages.join("").split("\n");
    expect(lines.pop()).toBe("");
    expect(lines.map((line) => decodeLeaf(Buffer.from(line)).event)).toEqual(events.slice(10, 40));
  });

  it("gives the tree's right edge at any size from stored hashes, as appending every leaf hash would", async () => {
    const hashes = (await db.pool.query<{ leaf_hash: Buffer }>("SELECT leaf_hash FROM audit_log ORDER BY idx")).rows.map((row) => row.leaf_hash);
    for (const size of [0, 1, 2, 3, 7, 8, 137, 255, 256, 257, 299, 300]) {
      expect(await reader.frontierAt(size), `size ${size}`).toEqual(CompactRange.fromLeafHashes(hashes.slice(0, size)).hashes);
    }
  });

  it("refuses a range past the end of the log rather than return fewer leaves", async () => {
    const drain = async () => {
      for await (const page of reader.leafLines(290, 310)) expect(page.lines.length).toBeGreaterThan(0);
    };
    await expect(drain()).rejects.toThrow(/holds 10 of the leaves \[290, 310\)/);
    await expect(reader.frontierAt(301)).rejects.toThrow();
  });
});
