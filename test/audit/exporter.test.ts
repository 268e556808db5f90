import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compactVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyCheckpoint } from "../../src/audit/core/checkpoint.js";
import { chainHash, decodeLeaf, type AuditEvent } from "../../src/audit/core/entry.js";
import { CompactRange, leafHash, rootFromLeafHashes, verifyConsistency } from "../../src/audit/core/merkle.js";
import { publicJwk } from "../../src/audit/core/keys.js";
import { exportAudit, streamAuditEntries, type ExportAuditOptions } from "../../src/audit/store/exporter.js";
import { AuditLogReader } from "../../src/audit/store/reader.js";
import { verifyExport } from "../../src/audit/verify/verify-export.js";
import { openAuditDatabase, sequenceEvents, type AuditDatabase } from "./support/audit-database.js";
import { requestEvent, TEST_ORIGIN, testSigningKey } from "./support/events.js";

const key = testSigningKey();
const START = Date.parse("2026-02-01T00:00:00.000Z");
/** Event i happened at START + i seconds; batches of 100 leave checkpoints at 100, 200, ..., 1000. */
const events: AuditEvent[] = Array.from({ length: 1000 }, (_, i) => requestEvent(new Date(START + i * 1000)));
let db: AuditDatabase;
let exportsDir: string;

beforeAll(async () => {
  db = await openAuditDatabase();
  await sequenceEvents(db.pool, key, events, 100);
  exportsDir = await mkdtemp(join(tmpdir(), "atomic-audit-export-"));
});

afterAll(async () => {
  await db.close();
  await rm(exportsDir, { recursive: true, force: true });
});

let exportCount = 0;
/** Exports, then reads the export back and runs the offline verifier on it, which must accept it. */
async function exportTo(options: Partial<ExportAuditOptions> = {}, previousCheckpoint?: string) {
  const outDir = join(exportsDir, String(exportCount++));
  const result = await exportAudit({ pool: db.pool, outDir, key, ...options });
  const files = await readExport(outDir);
  const verdict = await verifyExport(outDir, { publicKeyJwk: publicJwk(key), ...(previousCheckpoint === undefined ? {} : { previousCheckpoint }) });
  expect(verdict).toMatchObject({ ok: true, origin: TEST_ORIGIN, from: result.from, to: result.to, root: files.checkpoint.root.toString("base64") });
  return { outDir, result, files, verdict };
}

interface Manifest {
  format: string;
  origin: string;
  from: number;
  to: number;
  files: Record<string, string>;
  createdAt: string;
}

/** Reads an export as an auditor would, checking the manifest's signature and every digest it lists. */
async function readExport(dir: string) {
  const { payload, protectedHeader } = await compactVerify(await readFile(join(dir, "manifest.jws"), "utf8"), key.publicKey);
  expect(protectedHeader).toEqual({ alg: "EdDSA", kid: key.name });
  const manifest = JSON.parse(new TextDecoder().decode(payload)) as Manifest;
  expect((await readdir(dir)).sort()).toEqual([...Object.keys(manifest.files), "manifest.jws"].sort());
  for (const [name, digest] of Object.entries(manifest.files)) {
    expect(createHash("sha256").update(await readFile(join(dir, name))).digest("hex"), name).toBe(digest);
  }
  const entries = await readFile(join(dir, "entries.jsonl"), "utf8");
  expect(entries === "" || entries.endsWith("\n")).toBe(true);
  const note = await readFile(join(dir, "checkpoint"), "utf8");
  return {
    manifest,
    leaves: entries.split("\n").slice(0, -1).map((line) => Buffer.from(line, "utf8")),
    prefix: JSON.parse(await readFile(join(dir, "prefix.json"), "utf8")) as { size: number; hashes: string[]; chain: string },
    checkpoint: verifyCheckpoint(note, { name: key.name, publicKey: key.publicKey }),
    consistency: manifest.files["consistency.json"] === undefined
      ? undefined
      : (JSON.parse(await readFile(join(dir, "consistency.json"), "utf8")) as { oldSize: number; newSize: number; proof: string[] }),
  };
}

/** The root an auditor recomputes from the prefix and the exported leaves alone, checking the chain on the way. */
function recomputeRoot(prefix: { size: number; hashes: string[]; chain: string }, leaves: Buffer[]): Buffer {
  let range = CompactRange.from(prefix.size, prefix.hashes.map((hash) => Buffer.from(hash, "base64")));
  let prev: Buffer = Buffer.from(prefix.chain, "hex");
  for (const [i, leaf] of leaves.entries()) {
    const decoded = decodeLeaf(leaf);
    expect(decoded.index).toBe(prefix.size + i);
    expect(decoded.prev.equals(prev)).toBe(true);
    prev = chainHash(leaf);
    range = range.append(leafHash(leaf));
  }
  return range.root();
}

describe("exportAudit", () => {
  it("exports the whole log up to the latest checkpoint, signed and verifiable from the files alone", async () => {
    const progress: Array<[number, number]> = [];
    const { result, files } = await exportTo({ onProgress: (done, total) => progress.push([done, total]) });

    expect(result).toEqual({ from: 0, to: 1000, files: files.manifest.files });
    expect(files.manifest).toMatchObject({ format: "atomic-audit-export/1", origin: TEST_ORIGIN, from: 0, to: 1000 });
    expect(Object.keys(files.manifest.files).sort()).toEqual(["checkpoint", "entries.jsonl", "prefix.json"]);
    expect(files.leaves.map((leaf) => decodeLeaf(leaf).event)).toEqual(events);
    expect(files.prefix).toEqual({ size: 0, hashes: [], chain: "0".repeat(64) });
    expect(files.checkpoint.size).toBe(1000);
    expect(recomputeRoot(files.prefix, files.leaves).equals(files.checkpoint.root)).toBe(true);
    expect(rootFromLeafHashes(files.leaves.map((leaf) => leafHash(leaf))).equals(files.checkpoint.root)).toBe(true);
    expect(progress.at(-1)).toEqual([1000, 1000]);
  });

  it("exports an index range, ending at the largest checkpoint at or below the requested end", async () => {
    const { result, files } = await exportTo({ from: 250, to: 730 });

    // Said, not silent: what was asked for, and the signed tree that would hold all of it.
    expect(result).toMatchObject({ from: 250, to: 700, shortOf: { requested: 730, nextSize: 800 } });
    expect(files.manifest).toMatchObject({ from: 250, to: 700 });
    expect((await exportTo({ from: 250, to: 700 })).result.shortOf).toBeUndefined();
    expect((await exportTo({ from: 990, to: 5000 })).result).toMatchObject({ to: 1000, shortOf: { requested: 5000, nextSize: null } });
    expect(files.leaves.map((leaf) => decodeLeaf(leaf).event)).toEqual(events.slice(250, 700));
    expect(files.prefix.size).toBe(250);
    expect(files.checkpoint.size).toBe(700);
    expect(recomputeRoot(files.prefix, files.leaves).equals(files.checkpoint.root)).toBe(true);
  });

  it("translates a time range to the leaves whose event times fall in it", async () => {
    const { result, files } = await exportTo({ from: new Date(START + 299_500), to: new Date(START + 650_000) });

    // Events 300..649 fall in the window; the export ends at checkpoint 600.
    expect(result).toMatchObject({ from: 300, to: 600, shortOf: { requested: 650, nextSize: 700 } });
    expect(files.leaves.map((leaf) => decodeLeaf(leaf).event)).toEqual(events.slice(300, 600));
    expect(recomputeRoot(files.prefix, files.leaves).equals(files.checkpoint.root)).toBe(true);
  });

  it("exports nothing but the proof of the tree when no event is at or after the start time", async () => {
    const { result, files } = await exportTo({ from: new Date(START + 5_000_000) });
    expect(result).toMatchObject({ from: 1000, to: 1000 });
    expect(files.leaves).toEqual([]);
    expect(recomputeRoot(files.prefix, files.leaves).equals(files.checkpoint.root)).toBe(true);
  });

  it("proves that the exported tree extends the one an auditor already holds", async () => {
    const held = (await new AuditLogReader(db.pool).checkpointAtOrBelow(400))!;
    const { files, verdict } = await exportTo({ from: 400, previousSize: 400 }, held.note);
    expect(verdict).toMatchObject({ consistency: { oldSize: 400, against: "previous-checkpoint" } });

    expect(files.consistency?.oldSize).toBe(400);
    expect(files.consistency?.newSize).toBe(1000);
    const proof = files.consistency!.proof.map((hash) => Buffer.from(hash, "base64"));
    expect(verifyConsistency(400, 1000, held.root, files.checkpoint.root, proof)).toBe(true);
    // The held root is also what the prefix alone gives: the auditor's old tree is this export's first 400 leaves.
    expect(CompactRange.from(400, files.prefix.hashes.map((hash) => Buffer.from(hash, "base64"))).root().equals(held.root)).toBe(true);
  });

  it("refuses ranges it cannot prove and never overwrites an earlier export", async () => {
    await expect(exportTo({ from: 701, to: 730 })).rejects.toThrow(RangeError);
    await expect(exportTo({ to: 99 })).rejects.toThrow(/no signed checkpoint at or below size 99/);
    await expect(exportTo({ previousSize: 1001 })).rejects.toThrow(RangeError);
    await expect(exportTo({ previousSize: 0 })).rejects.toThrow(RangeError);

    const outDir = join(exportsDir, "occupied");
    await exportAudit({ pool: db.pool, outDir, key, from: 990 });
    const manifest = await readFile(join(outDir, "manifest.jws"), "utf8");
    await expect(exportAudit({ pool: db.pool, outDir, key, from: 500 })).rejects.toMatchObject({ code: "EEXIST" });
    expect(await readFile(join(outDir, "manifest.jws"), "utf8")).toBe(manifest);
    expect((await readExport(outDir)).manifest.from).toBe(990);
  });

  it("refuses to export with a key that did not sign the log's checkpoints", async () => {
    await expect(exportTo({ key: testSigningKey(key.name) })).rejects.toThrow(/signature/i);
  });
});

describe("streamAuditEntries", () => {
  it("streams exactly the bytes of entries.jsonl for the same range", async () => {
    const { outDir } = await exportTo({ from: 10, to: 300 });
    const chunks: Buffer[] = [];
    for await (const chunk of streamAuditEntries(db.pool, 10, 300)) chunks.push(chunk);
    expect(Buffer.concat(chunks).equals(await readFile(join(outDir, "entries.jsonl")))).toBe(true);
  });
});
