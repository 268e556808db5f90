/**
 * Tamper suite: thousands of attacked exports, each of which the offline verifier must refuse with the expected code.
 *
 * Two attacker models recur:
 *  - "raw": the files are changed after the export was signed: the manifest's digests catch it (file_digest).
 *  - "resealed": the database behind the exporter was changed (by someone without the signing key) and the honest
 *    exporter signed a manifest over what it found; the stored checkpoints, signed when the leaves were sequenced,
 *    are unchanged. Here the chain, the Merkle root and the checkpoints must catch it.
 *
 * Exports are built in memory by the fixture builder and verified through verifyExportSource(memorySource(...)), the
 * same code verifyExport runs over a directory; a few cases go through real directories at the end.
 */
import { createHash, generateKeyPairSync, sign as cryptoSign } from "node:crypto";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parseUnverifiedCheckpoint, signCheckpoint } from "../../src/audit/core/checkpoint.js";
import { LeafError, chainHash, decodeLeaf, encodeLeaf } from "../../src/audit/core/entry.js";
import { keyIdentity } from "../../src/audit/core/key-identity.js";
import { publicJwk, type SigningKey } from "../../src/audit/core/keys.js";
import { popCount } from "../../src/audit/core/merkle.js";
import {
  CHECKPOINT_FILE,
  CONSISTENCY_FILE,
  ENTRIES_FILE,
  MANIFEST_FILE,
  PREFIX_FILE,
  formatConsistency,
  formatPrefix,
} from "../../src/audit/verify/export-format.js";
import {
  SyntheticLog,
  entryLines,
  joinEntryLines,
  manifestFor,
  sealExport,
  signManifest,
  syntheticEvent,
  writeExportDir,
  type ExportFiles,
} from "../../src/audit/verify/testing/export-fixture.js";
import {
  memorySource,
  verifyExport,
  verifyExportSource,
  type VerifyFailureCode,
  type VerifyOptions,
  type VerifyVerdict,
} from "../../src/audit/verify/verify-export.js";

const ORIGIN = "atomic.test/hospital-log";
const NAME = "atomic.test";

function makeKey(name = NAME): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return { name, privateKey, publicKey };
}

const key = makeKey();
/** How the verdicts name that key: the identity an auditor compares out of band. */
const signer = keyIdentity(key.name, key.publicKey);
const jwk = publicJwk(key);
/** The log: 40 leaves. */
const log = SyntheticLog.build(key, ORIGIN, 40);
/** A fork of it, signed by the same key: the same first 12 leaves, then other events. */
const forked = SyntheticLog.build(key, ORIGIN, 40, (i) => (i < 12 ? syntheticEvent(i) : syntheticEvent(i, "forked")));
/** A fork from leaf 3 on. */
const forkedEarly = SyntheticLog.build(key, ORIGIN, 40, (i) => (i < 3 ? syntheticEvent(i) : syntheticEvent(i, "forked early")));

let full: ExportFiles; // [0, 24)
let small: ExportFiles; // [0, 6): for exhaustive bit flips
let middle: ExportFiles; // [5, 11): bit flips with a prefix
let extending: ExportFiles; // [10, 24) with consistency.json from 6
let spanning: ExportFiles; // [0, 24) with consistency.json from 13
let empty: ExportFiles; // [24, 24)

beforeAll(async () => {
  full = await log.exportFiles({ to: 24 });
  small = await log.exportFiles({ to: 6 });
  middle = await log.exportFiles({ from: 5, to: 11 });
  extending = await log.exportFiles({ from: 10, to: 24, previousSize: 6 });
  spanning = await log.exportFiles({ to: 24, previousSize: 13 });
  empty = await log.exportFiles({ from: 24, to: 24 });
});

async function verdictOf(files: ExportFiles, options: Partial<VerifyOptions> = {}, chunkSize?: number): Promise<VerifyVerdict> {
  return verifyExportSource(memorySource(files, chunkSize === undefined ? {} : { chunkSize }), { publicKeyJwk: jwk, ...options }, "never");
}

function claimsOf(files: ExportFiles): { origin: string; from: number; to: number } {
  const payload = JSON.parse(Buffer.from((files.get(MANIFEST_FILE) as Buffer).toString().split(".")[1] as string, "base64url").toString());
  return { origin: payload.origin, from: payload.from, to: payload.to };
}

/** The honest exporter signing what a tampered database gave it. */
async function reseal(files: ExportFiles): Promise<ExportFiles> {
  return sealExport(files, key, claimsOf(files));
}

function withFile(files: ExportFiles, name: string, bytes: Buffer | undefined): ExportFiles {
  const copy = new Map(files);
  if (bytes === undefined) copy.delete(name);
  else copy.set(name, bytes);
  return copy;
}

function flipBit(bytes: Buffer, bit: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[bit >> 3] = (copy[bit >> 3] as number) ^ (1 << (bit & 7));
  return copy;
}

interface Expected {
  code: VerifyFailureCode;
  index?: number;
  file?: string;
}

/** Collects attacks and their verdicts; every mismatch is reported at once at the end of a test. */
class Attacks {
  count = 0;
  readonly mismatches: unknown[] = [];
  readonly codes = new Map<string, number>();

  async expect(label: string, files: ExportFiles, expected: Expected, options: Partial<VerifyOptions> = {}): Promise<void> {
    this.record(label, await verdictOf(files, options), expected);
  }

  /** For attacks whose effect legitimately lands on one of a few checks (a header that may still parse). */
  async expectOneOf(label: string, files: ExportFiles, codes: VerifyFailureCode[], file?: string): Promise<void> {
    const verdict = await verdictOf(files);
    const code = !verdict.ok && codes.includes(verdict.code) ? verdict.code : (codes[0] as VerifyFailureCode);
    this.record(label, verdict, { code, ...(file === undefined ? {} : { file }) });
  }

  record(label: string, verdict: VerifyVerdict, expected: Expected): void {
    this.count++;
    if (verdict.ok) {
      this.mismatches.push({ label, expected, got: "ok" });
      return;
    }
    this.codes.set(verdict.code, (this.codes.get(verdict.code) ?? 0) + 1);
    const wrong =
      verdict.code !== expected.code ||
      ("index" in expected && verdict.index !== expected.index) ||
      (expected.file !== undefined && verdict.file !== expected.file);
    if (wrong) this.mismatches.push({ label, expected, got: verdict });
  }

  done(minimum: number): void {
    expect(this.mismatches.slice(0, 10)).toEqual([]);
    expect(this.count).toBeGreaterThanOrEqual(minimum);
  }
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest();

/**
 * What a resealed export whose entries.jsonl was edited must fail with, worked out leaf by leaf from the original
 * lines: the first line that differs is where it goes wrong. (The leaf decoder is tested on its own in entry.test.ts.)
 */
function expectedForEntries(original: readonly Buffer[], tampered: Buffer, from: number, chainBefore: Buffer): Expected {
  const lines: Buffer[] = [];
  let start = 0;
  for (let nl = tampered.indexOf(0x0a); nl >= 0; nl = tampered.indexOf(0x0a, start)) {
    lines.push(tampered.subarray(start, nl));
    start = nl + 1;
  }
  const rest = tampered.subarray(start);
  let chain = chainBefore;
  for (let j = 0; j < lines.length; j++) {
    const line = lines[j] as Buffer;
    const index = from + j;
    if (j < original.length && line.equals(original[j] as Buffer)) {
      chain = sha256(line);
      continue;
    }
    let decoded;
    try {
      decoded = decodeLeaf(line);
    } catch (error) {
      expect(error).toBeInstanceOf(LeafError);
      return { code: (error as LeafError).code === "not_canonical" ? "entry_not_canonical" : "entry_malformed", index, file: ENTRIES_FILE };
    }
    if (decoded.index !== index) return { code: "index_gap", index, file: ENTRIES_FILE };
    if (!decoded.prev.equals(chain)) return { code: "chain_broken", index, file: ENTRIES_FILE };
    // Another valid leaf in its place: the next leaf's prev no longer matches, or the root does not.
    if (j + 1 < lines.length) return { code: "chain_broken", index: index + 1, file: ENTRIES_FILE };
    if (rest.length > 0) return { code: "entry_malformed", index: index + 1, file: ENTRIES_FILE };
    return lines.length === original.length ? { code: "root_mismatch" } : { code: "entry_count" };
  }
  if (rest.length > 0) return { code: "entry_malformed", index: from + lines.length, file: ENTRIES_FILE };
  return { code: "entry_count" };
}

/** A forged but well-formed leaf for position `index` after chain hash `prev`. */
function forgedLeaf(index: number, prev: Buffer): Buffer {
  return encodeLeaf(index, prev, { ...syntheticEvent(index), kind: "config.loaded", detail: { forged: true } });
}

/** Re-chains lines from position `start` on (renumbering indexes), as an attacker rewriting history would. */
function rechain(lines: readonly Buffer[], from: number, chainBefore: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let prev = chainBefore;
  for (let j = 0; j < lines.length; j++) {
    const leaf = encodeLeaf(from + j, prev, decodeLeaf(lines[j] as Buffer).event);
    out.push(leaf);
    prev = chainHash(leaf);
  }
  return out;
}

describe("untampered exports verify", () => {
  it("a whole log, in any chunking", async () => {
    for (const chunkSize of [1, 7, 64, 4096, undefined]) {
      const verdict = await verdictOf(full, {}, chunkSize);
      expect(verdict).toEqual({ ok: true, origin: ORIGIN, from: 0, to: 24, root: log.rootAt(24).toString("base64"), checked: 24, keys: [signer] });
    }
  });

  it("with a previous checkpoint of every size up to the export's", async () => {
    for (let size = 0; size <= 24; size++) {
      const verdict = await verdictOf(full, { previousCheckpoint: log.checkpointAt(size) });
      expect(verdict.ok && verdict.consistency).toEqual({ oldSize: size, oldRoot: log.rootAt(size).toString("base64"), against: "previous-checkpoint" });
    }
  });

  it("from > 0 with a prefix, alone and against previous checkpoints", async () => {
    const verdict = await verdictOf(middle);
    expect(verdict).toEqual({ ok: true, origin: ORIGIN, from: 5, to: 11, root: log.rootAt(11).toString("base64"), checked: 6, keys: [signer] });
    for (let size = 5; size <= 11; size++) expect((await verdictOf(middle, { previousCheckpoint: log.checkpointAt(size) })).ok).toBe(true);
    for (let from = 0; from <= 24; from++) {
      const files = await log.exportFiles({ from, to: 24 });
      const got = await verdictOf(files, {}, 97);
      expect(got.ok && [got.from, got.to, got.checked]).toEqual([from, 24, 24 - from]);
    }
    expect(await verdictOf(empty)).toEqual({ ok: true, origin: ORIGIN, from: 24, to: 24, root: log.rootAt(24).toString("base64"), checked: 0, keys: [signer] });
  });

  it("with consistency.json: against the previous checkpoint, the exported leaves, or reported unchecked", async () => {
    expect(await verdictOf(extending, { previousCheckpoint: log.checkpointAt(6) })).toMatchObject({
      ok: true,
      from: 10,
      to: 24,
      checked: 14,
      consistency: { oldSize: 6, oldRoot: log.rootAt(6).toString("base64"), against: "previous-checkpoint" },
    });
    expect(await verdictOf(extending)).toMatchObject({ ok: true, consistency: { oldSize: 6, against: "unchecked" } });
    expect(await verdictOf(spanning)).toMatchObject({ ok: true, consistency: { oldSize: 13, oldRoot: log.rootAt(13).toString("base64"), against: "exported-leaves" } });
    // A trusted checkpoint the leaves span is checked on the leaves, whatever size the proof starts at.
    expect(await verdictOf(spanning, { previousCheckpoint: log.checkpointAt(9) })).toMatchObject({ ok: true, consistency: { oldSize: 9, against: "previous-checkpoint" } });
    for (let previousSize = 1; previousSize <= 24; previousSize++) {
      const files = await log.exportFiles({ from: 20, to: 24, previousSize });
      expect((await verdictOf(files, { previousCheckpoint: log.checkpointAt(previousSize) })).ok).toBe(true);
    }
  });

  it("a manifest.jws ending in one newline", async () => {
    const files = withFile(full, MANIFEST_FILE, Buffer.concat([full.get(MANIFEST_FILE) as Buffer, Buffer.from("\n")]));
    expect((await verdictOf(files)).ok).toBe(true);
  });
});

describe("entries.jsonl attacked", () => {
  it("a bit flip in every third byte, raw: file_digest", async () => {
    const attacks = new Attacks();
    for (const files of [small, middle]) {
      const bytes = files.get(ENTRIES_FILE) as Buffer;
      for (let i = files === small ? 0 : 1; i < bytes.length; i += 3) {
        await attacks.expect(`raw flip byte ${i}`, withFile(files, ENTRIES_FILE, flipBit(bytes, i * 8 + (i % 8))), { code: "file_digest", file: ENTRIES_FILE });
      }
    }
    attacks.done(2000);
  });

  it("a bit flip in every byte of every line (bit position rotating), resealed: the first bad leaf, with its index", async () => {
    const attacks = new Attacks();
    for (const [files, from] of [[small, 0], [middle, 5]] as const) {
      const bytes = files.get(ENTRIES_FILE) as Buffer;
      const original = entryLines(files);
      for (let i = 0; i < bytes.length; i++) {
        const bit = (i + from) % 8;
        const tampered = flipBit(bytes, i * 8 + bit);
        const expected = expectedForEntries(original, tampered, from, log.chainBefore(from));
        await attacks.expect(`flip byte ${i} bit ${bit}`, await reseal(withFile(files, ENTRIES_FILE, tampered)), expected);
      }
    }
    attacks.done(6000);
    // The flips reach every check the entries go through.
    for (const code of ["entry_malformed", "entry_not_canonical", "index_gap", "chain_broken", "root_mismatch"]) {
      expect(attacks.codes.get(code) ?? 0, code).toBeGreaterThanOrEqual(3);
    }
  });

  it("deleted, duplicated, inserted, swapped and moved entries", async () => {
    const attacks = new Attacks();
    const lines = entryLines(full);
    const n = lines.length;
    const sealed = async (edited: Buffer[]) => reseal(withFile(full, ENTRIES_FILE, joinEntryLines(edited)));
    for (let k = 0; k < n; k++) {
      const deleted = lines.filter((_, j) => j !== k);
      await attacks.expect(`delete ${k}`, await sealed(deleted), k < n - 1 ? { code: "index_gap", index: k } : { code: "entry_count", index: n - 1 });
      await attacks.expect(`delete ${k}, raw`, withFile(full, ENTRIES_FILE, joinEntryLines(deleted)), { code: "file_digest" });
      await attacks.expect(`duplicate ${k}`, await sealed([...lines.slice(0, k + 1), lines[k] as Buffer, ...lines.slice(k + 1)]), { code: "index_gap", index: k + 1 });
      // A forged leaf with the right index and prev, slipped in: the leaf after it then has the wrong index.
      const forged = forgedLeaf(k, log.chainBefore(k));
      await attacks.expect(`insert forged at ${k}`, await sealed([...lines.slice(0, k), forged, ...lines.slice(k)]), { code: "index_gap", index: k + 1 });
      // ... and the rest re-numbered and re-chained: one entry too many for the signed checkpoint.
      await attacks.expect(`insert forged at ${k}, re-chained`, await sealed(rechain([...lines.slice(0, k), forged, ...lines.slice(k)], 0, log.chainBefore(0))), { code: "entry_count" });
      // An entry replaced by a forged one and everything after re-chained: the count is right, the root is not.
      await attacks.expect(`replace ${k}, re-chained`, await sealed(rechain([...lines.slice(0, k), forged, ...lines.slice(k + 1)], 0, log.chainBefore(0))), { code: "root_mismatch" });
      // An entry deleted and the rest re-chained.
      await attacks.expect(`delete ${k}, re-chained`, await sealed(rechain(deleted, 0, log.chainBefore(0))), { code: "entry_count", index: n - 1 });
      if (k < n - 1) {
        const swapped = lines.slice();
        [swapped[k], swapped[k + 1]] = [lines[k + 1] as Buffer, lines[k] as Buffer];
        await attacks.expect(`swap ${k}`, await sealed(swapped), { code: "index_gap", index: k });
        await attacks.expect(`move ${k} to the end`, await sealed([...deleted, lines[k] as Buffer]), { code: "index_gap", index: k });
        await attacks.expect(`swap ${k}, re-chained`, await sealed(rechain(swapped, 0, log.chainBefore(0))), { code: "root_mismatch" });
      }
      await attacks.expect(`empty line before ${k}`, await sealed([...lines.slice(0, k), Buffer.alloc(0), ...lines.slice(k)]), { code: "entry_malformed", index: k });
    }
    const appended = forgedLeaf(n, log.chainBefore(n));
    await attacks.expect("append a forged leaf", await sealed([...lines, appended]), { code: "entry_count" });
    await attacks.expect("reverse", await sealed(lines.slice().reverse()), { code: "index_gap", index: 0 });
    await attacks.expect("CRLF line ends", await reseal(withFile(full, ENTRIES_FILE, Buffer.from((full.get(ENTRIES_FILE) as Buffer).toString().replace(/\n/g, "\r\n")))), {
      code: "entry_not_canonical",
      index: 0,
    });
    attacks.done(200);
    expect(attacks.codes.get("file_digest")).toBe(n);
  });

  it("truncated: whole lines removed, or cut at every byte", async () => {
    const attacks = new Attacks();
    const lines = entryLines(full);
    const bytes = full.get(ENTRIES_FILE) as Buffer;
    for (let keep = 0; keep < lines.length; keep++) {
      await attacks.expect(`keep ${keep} lines`, await reseal(withFile(full, ENTRIES_FILE, joinEntryLines(lines.slice(0, keep)))), { code: "entry_count", index: keep, file: ENTRIES_FILE });
    }
    await attacks.expect("last line removed, raw", withFile(full, ENTRIES_FILE, joinEntryLines(lines.slice(0, -1))), { code: "file_digest" });
    // Cut anywhere: a partial last line (no "\n") is refused at its index; a cut at a line end is a short count.
    const ends = new Set<number>();
    let offset = 0;
    for (const line of lines) ends.add((offset += line.length + 1));
    const lastLine = (lines[lines.length - 1] as Buffer).length + 1;
    for (let cut = 1; cut < bytes.length; cut += cut >= bytes.length - lastLine - 2 ? 1 : 13) {
      const complete = bytes.subarray(0, cut).filter((byte) => byte === 0x0a).length;
      const expected: Expected = ends.has(cut) ? { code: "entry_count", index: complete } : { code: "entry_malformed", index: complete, file: ENTRIES_FILE };
      await attacks.expect(`cut at ${cut}`, await reseal(withFile(full, ENTRIES_FILE, bytes.subarray(0, cut))), expected);
    }
    attacks.done(1000);
    const partial = await verdictOf(await reseal(withFile(full, ENTRIES_FILE, bytes.subarray(0, bytes.length - 1))));
    expect(partial).toMatchObject({ ok: false, code: "entry_malformed", index: 23, reason: expect.stringMatching(/^entries\.jsonl line 24 \(index 23\): does not end with a newline/) });
  });

  it("reports the file, the first bad index and the line number", async () => {
    const lines = entryLines(middle);
    const verdict = await verdictOf(await reseal(withFile(middle, ENTRIES_FILE, joinEntryLines([...lines.slice(0, 2), ...lines.slice(3)]))));
    expect(verdict).toEqual({
      ok: false,
      code: "index_gap",
      index: 7,
      file: ENTRIES_FILE,
      reason: "entries.jsonl line 3 (index 7): holds index 8 where index 7 was expected",
    });
  });
});

describe("history rewritten without the key", () => {
  it("an entry rewritten, the chain, root and digests recomputed: the signatures fail", async () => {
    const attacks = new Attacks();
    const lines = entryLines(full);
    for (let k = 0; k < lines.length; k++) {
      const edited = rechain([...lines.slice(0, k), forgedLeaf(k, log.chainBefore(k)), ...lines.slice(k + 1)], 0, log.chainBefore(0));
      const forgedLog = new SyntheticLog(key, ORIGIN);
      for (const leaf of edited) forgedLog.append(decodeLeaf(leaf).event);
      const root = forgedLog.rootAt(24);
      // The checkpoint body says the new root; the attacker can only keep the old signature line.
      const oldNote = (full.get(CHECKPOINT_FILE) as Buffer).toString();
      const newNote = `${ORIGIN}\n24\n${root.toString("base64")}\n\n${oldNote.split("\n\n")[1]}`;
      const files = withFile(withFile(full, ENTRIES_FILE, joinEntryLines(edited)), CHECKPOINT_FILE, Buffer.from(newNote));
      // 1. Manifest payload with the new digests, old signature.
      const [header, , signature] = (full.get(MANIFEST_FILE) as Buffer).toString().split(".");
      const payload = Buffer.from(JSON.stringify(manifestFor(files, { origin: ORIGIN, from: 0, to: 24 }))).toString("base64url");
      await attacks.expect(`rewrite ${k}: manifest re-digested`, withFile(files, MANIFEST_FILE, Buffer.from(`${header}.${payload}.${signature}`)), { code: "manifest_signature", file: MANIFEST_FILE });
      // 2. Manifest left alone.
      await attacks.expect(`rewrite ${k}: manifest untouched`, files, { code: "file_digest", file: CHECKPOINT_FILE });
      // 3. The database's stored checkpoint rewritten too, and the honest exporter signing the manifest.
      await attacks.expect(`rewrite ${k}: resealed`, await reseal(files), { code: "checkpoint_signature", file: CHECKPOINT_FILE });
      // 4. The checkpoint signed by a key of the same name that is not the log's.
      const impostor = signCheckpoint({ origin: ORIGIN, size: 24, root }, makeKey());
      await attacks.expect(`rewrite ${k}: impostor checkpoint`, await reseal(withFile(files, CHECKPOINT_FILE, Buffer.from(impostor))), { code: "checkpoint_signature" });
      // 5. The same forged log, but against a checkpoint the auditor holds.
      await attacks.expect(`rewrite ${k}: impostor, with previous`, await reseal(withFile(files, CHECKPOINT_FILE, Buffer.from(impostor))), { code: "checkpoint_signature" }, { previousCheckpoint: log.checkpointAt(24) });
    }
    attacks.done(120);
  });

  it("a whole export made with another key: manifest_signature, or key_invalid for a private JWK", async () => {
    const attacks = new Attacks();
    for (const name of [NAME, "atomic.impostor"]) {
      const impostor = makeKey(name);
      const other = SyntheticLog.build(impostor, ORIGIN, 24);
      await attacks.expect(`log signed by ${name}`, await other.exportFiles(), { code: "manifest_signature", file: MANIFEST_FILE });
      // The real export, checked with another key.
      attacks.record(`verified with ${name}`, await verifyExportSource(memorySource(full), { publicKeyJwk: publicJwk(impostor) }, "never"), { code: "manifest_signature" });
      // The manifest signed by the log's key, the checkpoint by the impostor's.
      const mixed = withFile(full, CHECKPOINT_FILE, Buffer.from(other.checkpointAt(24)));
      await attacks.expect(`checkpoint by ${name}`, await reseal(mixed), { code: "checkpoint_signature", file: CHECKPOINT_FILE });
    }
    const privateJwk = { ...jwk, d: key.privateKey.export({ format: "jwk" }).d };
    for (const bad of [privateJwk, { ...jwk, x: "AAAA" }, { ...jwk, crv: "P-256" }, "not a key", null, undefined]) {
      attacks.record("bad key", await verifyExportSource(memorySource(full), { publicKeyJwk: bad }, "never"), { code: "key_invalid" });
    }
    attacks.done(12);
  });
});

describe("checkpoints: rollback and fork", () => {
  it("a previous checkpoint larger than the export's tree: rollback", async () => {
    const attacks = new Attacks();
    for (let size = 25; size <= 40; size++) {
      await attacks.expect(`previous ${size} vs 24`, full, { code: "rollback" }, { previousCheckpoint: log.checkpointAt(size) });
      await attacks.expect(`previous ${size} vs [10, 24) with proof`, extending, { code: "rollback" }, { previousCheckpoint: log.checkpointAt(size) });
      await attacks.expect(`previous ${size} vs [5, 11)`, middle, { code: "rollback" }, { previousCheckpoint: log.checkpointAt(size) });
    }
    attacks.done(48);
  });

  it("two checkpoints of one size with different roots, or leaves that give another root: fork", async () => {
    const attacks = new Attacks();
    await attacks.expect("forked checkpoint of the same size", full, { code: "fork" }, { previousCheckpoint: forked.checkpointAt(24) });
    await attacks.expect("the export is the fork", await forked.exportFiles({ to: 24 }), { code: "fork" }, { previousCheckpoint: log.checkpointAt(24) });
    for (let size = 0; size < 24; size++) {
      const verdict = await verdictOf(full, { previousCheckpoint: forked.checkpointAt(size) });
      if (size <= 12) expect(verdict.ok, `size ${size} is before the fork`).toBe(true);
      else attacks.record(`forked previous ${size}`, verdict, { code: "fork", file: ENTRIES_FILE });
      if (size > 12) await attacks.expect(`export of the fork vs previous ${size}`, await forked.exportFiles({ to: 24 }), { code: "fork" }, { previousCheckpoint: log.checkpointAt(size) });
    }
    // Before the export's first index only a proof can tell, and it does not verify for a forked tree.
    for (let size = 4; size < 10; size++) {
      const files = await log.exportFiles({ from: 10, to: 24, previousSize: size });
      await attacks.expect(`proof vs forked ${size}`, files, { code: "consistency_failed", file: CONSISTENCY_FILE }, { previousCheckpoint: forkedEarly.checkpointAt(size) });
    }
    attacks.done(30);
  });

  it("a previous checkpoint the export cannot link to: consistency_missing, or another origin", async () => {
    const attacks = new Attacks();
    const noProof = await log.exportFiles({ from: 10, to: 24 });
    for (let size = 1; size < 10; size++) {
      await attacks.expect(`previous ${size} without proof`, noProof, { code: "consistency_missing" }, { previousCheckpoint: log.checkpointAt(size) });
      await attacks.expect(`previous ${size}, proof from 6`, extending, size === 6 ? { code: "rollback" } : { code: "consistency_failed" }, {
        previousCheckpoint: size === 6 ? log.checkpointAt(30) : log.checkpointAt(size),
      });
    }
    const otherOrigin = SyntheticLog.build(key, "atomic.test/another-log", 30);
    await attacks.expect("previous of another log", full, { code: "origin_mismatch" }, { previousCheckpoint: otherOrigin.checkpointAt(10) });
    await attacks.expect("previous signed by another key", full, { code: "checkpoint_signature" }, { previousCheckpoint: SyntheticLog.build(makeKey(), ORIGIN, 24).checkpointAt(10) });
    await attacks.expect("previous not a note", full, { code: "checkpoint_invalid" }, { previousCheckpoint: "24\n" });
    attacks.done(21);
  });
});

describe("consistency.json attacked", () => {
  it("every other bit of every proof hash, resealed: consistency_failed", async () => {
    const attacks = new Attacks();
    for (const [files, options] of [
      [extending, { previousCheckpoint: log.checkpointAt(6) }],
      [spanning, {}],
      [spanning, { previousCheckpoint: log.checkpointAt(13) }],
    ] as const) {
      const consistency = JSON.parse((files.get(CONSISTENCY_FILE) as Buffer).toString());
      const proof = (consistency.proof as string[]).map((hash) => Buffer.from(hash, "base64"));
      expect(proof.length).toBeGreaterThan(1);
      for (let p = 0; p < proof.length; p++) {
        for (let bit = p % 2; bit < 256; bit += 2) {
          const bad = proof.map((hash, i) => (i === p ? flipBit(hash, bit) : hash).toString("base64"));
          const tampered = Buffer.from(formatConsistency({ ...consistency, proof: bad }));
          await attacks.expect(`proof[${p}] bit ${bit}`, await reseal(withFile(files, CONSISTENCY_FILE, tampered)), { code: "consistency_failed", file: CONSISTENCY_FILE }, options);
        }
      }
      const edits: Record<string, unknown>[] = [
        { proof: consistency.proof.slice(1) },
        { proof: consistency.proof.slice(0, -1) },
        { proof: [...consistency.proof, consistency.proof[0]] },
        { proof: consistency.proof.slice().reverse() },
        { proof: [] },
        { newSize: consistency.newSize + 1 },
        { newSize: consistency.newSize - 1 },
        { oldSize: consistency.oldSize + 1 },
        { oldSize: consistency.oldSize - 1 },
        { oldSize: consistency.newSize + 1 },
        { proof: [...consistency.proof.slice(1), "AAAA"] },
        { oldSize: "6" },
        { extra: true },
      ];
      for (const edit of edits) {
        const tampered = Buffer.from(JSON.stringify({ ...consistency, ...edit }));
        await attacks.expect(`edit ${JSON.stringify(edit)}`, await reseal(withFile(files, CONSISTENCY_FILE, tampered)), { code: "consistency_failed" }, options);
      }
      const raw = files.get(CONSISTENCY_FILE) as Buffer;
      for (let i = 0; i < raw.length; i++) {
        await attacks.expect(`raw flip ${i}`, withFile(files, CONSISTENCY_FILE, flipBit(raw, i * 8 + (i % 8))), { code: "file_digest", file: CONSISTENCY_FILE }, options);
      }
    }
    attacks.done(1500);
  });
});

describe("manifest.jws attacked", () => {
  it("every single-bit flip: manifest_signature where the JWS still parses, manifest_invalid where not", async () => {
    const attacks = new Attacks();
    const bytes = full.get(MANIFEST_FILE) as Buffer;
    const [header] = bytes.toString().split(".") as [string, string, string];
    const canonical = (part: string) => /^[A-Za-z0-9_-]*$/.test(part) && Buffer.from(part, "base64url").toString("base64url") === part;
    for (let bit = 0; bit < bytes.length * 8; bit++) {
      const tampered = withFile(full, MANIFEST_FILE, flipBit(bytes, bit));
      const parts = flipBit(bytes, bit).toString("latin1").split(".");
      if (parts.length !== 3 || !parts.every(canonical)) {
        await attacks.expect(`flip ${bit}: not a JWS`, tampered, { code: "manifest_invalid", file: MANIFEST_FILE });
      } else if (bit >> 3 < header.length) {
        // A header that still decodes: its JSON broke or alg changed (invalid), or its kid changed (signature).
        await attacks.expectOneOf(`flip ${bit}: header`, tampered, ["manifest_invalid", "manifest_signature"], MANIFEST_FILE);
      } else {
        // Payload or signature: the signature no longer verifies.
        expect(bit >> 3).toBeGreaterThan(header.length);
        await attacks.expect(`flip ${bit}: payload or signature`, tampered, { code: "manifest_signature", file: MANIFEST_FILE });
      }
    }
    attacks.done(bytes.length * 8);
    expect(attacks.codes.get("manifest_signature") ?? 0).toBeGreaterThan(1000);
    expect(attacks.codes.get("manifest_invalid") ?? 0).toBeGreaterThan(100);
  });

  it("re-signed or rewritten manifests", async () => {
    const attacks = new Attacks();
    const claims = { origin: ORIGIN, from: 0, to: 24 };
    const payload = manifestFor(full, claims) as unknown as Record<string, unknown>;
    const sign = async (value: unknown, header: Record<string, unknown> = {}, by: Pick<SigningKey, "name" | "privateKey"> = key) =>
      withFile(full, MANIFEST_FILE, Buffer.from(await signManifest(value, by, header)));
    await attacks.expect("signed by another key, same kid", await sign(payload, {}, makeKey()), { code: "manifest_signature" });
    await attacks.expect("another kid", await sign(payload, { kid: "atomic.other" }), { code: "manifest_signature" });
    // Headers jose itself would refuse to produce, signed with node:crypto.
    const rawJws = (header: Record<string, unknown>) => {
      const input = `${Buffer.from(JSON.stringify(header)).toString("base64url")}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}`;
      return withFile(full, MANIFEST_FILE, Buffer.from(`${input}.${cryptoSign(null, Buffer.from(input), key.privateKey).toString("base64url")}`));
    };
    expect((await verdictOf(rawJws({ alg: "EdDSA", kid: NAME }))).ok).toBe(true);
    await attacks.expect("crit", rawJws({ alg: "EdDSA", kid: NAME, crit: ["exp"], exp: 1 }), { code: "manifest_invalid" });
    await attacks.expect("b64 false", rawJws({ alg: "EdDSA", kid: NAME, b64: false, crit: ["b64"] }), { code: "manifest_invalid" });
    await attacks.expect("alg Ed25519", rawJws({ alg: "Ed25519", kid: NAME }), { code: "manifest_invalid" });
    await attacks.expect("alg missing", rawJws({ kid: NAME }), { code: "manifest_invalid" });
    await attacks.expect("kid not a string", rawJws({ alg: "EdDSA", kid: 1 }), { code: "manifest_invalid" });
    await attacks.expect("no kid", rawJws({ alg: "EdDSA" }), { code: "manifest_invalid" });
    const [h, p] = (full.get(MANIFEST_FILE) as Buffer).toString().split(".") as [string, string];
    const none = Buffer.from(JSON.stringify({ alg: "none", kid: NAME })).toString("base64url");
    await attacks.expect("alg none", withFile(full, MANIFEST_FILE, Buffer.from(`${none}.${p}.`)), { code: "manifest_invalid" });
    const hs = Buffer.from(JSON.stringify({ alg: "HS256", kid: NAME })).toString("base64url");
    await attacks.expect("alg HS256", withFile(full, MANIFEST_FILE, Buffer.from(`${hs}.${p}.${"A".repeat(43)}`)), { code: "manifest_invalid" });
    await attacks.expect("no signature", withFile(full, MANIFEST_FILE, Buffer.from(`${h}.${p}.`)), { code: "manifest_invalid" });
    await attacks.expect("JSON serialisation", withFile(full, MANIFEST_FILE, Buffer.from(JSON.stringify({ protected: h, payload: p, signature: "x" }))), { code: "manifest_invalid" });
    await attacks.expect("two newlines", withFile(full, MANIFEST_FILE, Buffer.from(`${(full.get(MANIFEST_FILE) as Buffer).toString()}\n\n`)), { code: "manifest_invalid" });
    await attacks.expect("manifest missing", withFile(full, MANIFEST_FILE, undefined), { code: "file_missing", file: MANIFEST_FILE });
    const invalidPayloads: unknown[] = [
      "a string",
      [payload],
      { ...payload, format: "atomic-audit-export/2" },
      { ...payload, extra: 1 },
      { ...payload, origin: "" },
      { ...payload, from: 25 },
      { ...payload, from: -1 },
      { ...payload, to: 1.5 },
      { ...payload, createdAt: "yesterday" },
      { ...payload, files: { ...(payload["files"] as object), "notes.txt": "0".repeat(64) } },
      { ...payload, files: { ...(payload["files"] as object), [ENTRIES_FILE]: "A".repeat(64) } },
      { ...payload, files: { [PREFIX_FILE]: (payload["files"] as Record<string, string>)[PREFIX_FILE], [CHECKPOINT_FILE]: (payload["files"] as Record<string, string>)[CHECKPOINT_FILE] } },
    ];
    for (const value of invalidPayloads) await attacks.expect(`payload ${JSON.stringify(value).slice(0, 60)}`, await sign(value), { code: "manifest_invalid" });
    // Signed by the log's key, but claiming another range or origin than the files.
    await attacks.expect("from claims 1", await sign({ ...payload, from: 1 }), { code: "range_mismatch" });
    await attacks.expect("to claims 23", await sign({ ...payload, to: 23 }), { code: "range_mismatch" });
    await attacks.expect("origin claims another log", await sign({ ...payload, origin: "atomic.test/elsewhere" }), { code: "origin_mismatch" });
    attacks.done(29);
  });
});

describe("checkpoint attacked", () => {
  it("every single-bit flip, raw (file_digest) and resealed (checkpoint_invalid or checkpoint_signature)", async () => {
    const attacks = new Attacks();
    const bytes = full.get(CHECKPOINT_FILE) as Buffer;
    for (let bit = 0; bit < bytes.length * 8; bit++) {
      const tampered = flipBit(bytes, bit);
      if (bit % 3 === 0) await attacks.expect(`raw flip ${bit}`, withFile(full, CHECKPOINT_FILE, tampered), { code: "file_digest", file: CHECKPOINT_FILE });
      let parses = true;
      try {
        parseUnverifiedCheckpoint(tampered.toString("utf8"));
      } catch {
        parses = false;
      }
      const validUtf8 = Buffer.from(tampered.toString("utf8"), "utf8").equals(tampered);
      const expected: Expected = parses && validUtf8 ? { code: "checkpoint_signature" } : { code: "checkpoint_invalid" };
      await attacks.expect(`flip ${bit}`, await reseal(withFile(full, CHECKPOINT_FILE, tampered)), { ...expected, file: CHECKPOINT_FILE });
    }
    attacks.done(1500);
    expect(attacks.codes.get("checkpoint_signature") ?? 0).toBeGreaterThan(500);
    expect(attacks.codes.get("checkpoint_invalid") ?? 0).toBeGreaterThan(50);
  });

  it("another genuine checkpoint in its place", async () => {
    const attacks = new Attacks();
    for (let size = 0; size <= 40; size++) {
      if (size === 24) continue;
      const files = withFile(full, CHECKPOINT_FILE, Buffer.from(log.checkpointAt(size)));
      await attacks.expect(`checkpoint of ${size}`, await reseal(files), size < 24 ? { code: "entry_count" } : { code: "entry_count", index: 24 });
    }
    // The same tree under another origin, signed by the log's key.
    const renamed = signCheckpoint({ origin: "atomic.test/renamed", size: 24, root: log.rootAt(24) }, key);
    await attacks.expect("another origin", await reseal(withFile(full, CHECKPOINT_FILE, Buffer.from(renamed))), { code: "origin_mismatch" });
    attacks.done(41);
  });
});

describe("prefix.json attacked", () => {
  it("hashes, chain and size changed, resealed", async () => {
    const attacks = new Attacks();
    const prefix = JSON.parse((extending.get(PREFIX_FILE) as Buffer).toString());
    const hashes = (prefix.hashes as string[]).map((hash) => Buffer.from(hash, "base64"));
    const sealed = async (value: unknown) => reseal(withFile(extending, PREFIX_FILE, Buffer.from(typeof value === "string" ? value : formatPrefix(value as never))));
    for (let h = 0; h < hashes.length; h++) {
      for (let bit = 0; bit < 256; bit += 3) {
        const bad = hashes.map((hash, i) => (i === h ? flipBit(hash, bit) : hash).toString("base64"));
        await attacks.expect(`hash ${h} bit ${bit}`, await sealed({ ...prefix, hashes: bad }), { code: "root_mismatch" });
      }
    }
    const chain = Buffer.from(prefix.chain, "hex");
    for (let bit = 0; bit < 256; bit += 3) {
      await attacks.expect(`chain bit ${bit}`, await sealed({ ...prefix, chain: flipBit(chain, bit).toString("hex") }), { code: "chain_broken", index: 10, file: ENTRIES_FILE });
    }
    for (let size = 0; size <= 40; size++) {
      if (size === 10) continue;
      // 10 = 0b1010: another size with two set bits passes as a prefix, then the first entry's index is wrong.
      const expected: Expected = popCount(size) === popCount(10) ? { code: "index_gap", index: size } : { code: "prefix_invalid", file: PREFIX_FILE };
      await attacks.expect(`size ${size}`, await sealed({ ...prefix, size }), expected);
    }
    for (const bad of [
      "not json",
      "[]",
      JSON.stringify({ ...prefix, extra: 1 }),
      JSON.stringify({ size: prefix.size, hashes: prefix.hashes }),
      JSON.stringify({ ...prefix, chain: prefix.chain.toUpperCase() }),
      JSON.stringify({ ...prefix, hashes: [...prefix.hashes.slice(1), "AAAA"] }),
      JSON.stringify({ ...prefix, hashes: prefix.hashes.map((hash: string) => hash.replace(/=$/, "")) }),
      JSON.stringify({ ...prefix, size: "10" }),
    ]) {
      await attacks.expect(`prefix ${bad.slice(0, 40)}`, await sealed(bad), { code: "prefix_invalid", file: PREFIX_FILE });
    }
    const zero = JSON.parse((full.get(PREFIX_FILE) as Buffer).toString());
    await attacks.expect("size 0 with a chain", await reseal(withFile(full, PREFIX_FILE, Buffer.from(formatPrefix({ ...zero, chain: "1".repeat(64) })))), { code: "prefix_invalid" });
    attacks.done(200);
  });
});

describe("files added, removed or replaced", () => {
  it("in memory", async () => {
    const attacks = new Attacks();
    await attacks.expect("extra file", withFile(full, "notes.txt", Buffer.from("hi")), { code: "file_unexpected", file: "notes.txt" });
    await attacks.expect("extra file, resealed", await sealExport(withFile(full, "notes.txt", Buffer.from("hi")), key, claimsOf(full)), { code: "manifest_invalid" });
    await attacks.expect("consistency.json not listed", withFile(full, CONSISTENCY_FILE, extending.get(CONSISTENCY_FILE)), { code: "file_unexpected", file: CONSISTENCY_FILE });
    for (const name of [ENTRIES_FILE, PREFIX_FILE, CHECKPOINT_FILE]) {
      await attacks.expect(`${name} missing`, withFile(full, name, undefined), { code: "file_missing", file: name });
      await attacks.expect(`${name} from another export`, withFile(full, name, middle.get(name)), { code: "file_digest", file: name });
    }
    await attacks.expect(`${CONSISTENCY_FILE} missing`, withFile(extending, CONSISTENCY_FILE, undefined), { code: "file_missing", file: CONSISTENCY_FILE });
    attacks.done(9);
  });

  it("in a directory, through verifyExport", async () => {
    const root = await mkdtemp(join(tmpdir(), "atomic-tamper-"));
    try {
      const good = join(root, "good");
      await writeExportDir(good, extending);
      expect(await verifyExport(good, { publicKeyJwk: jwk, previousCheckpoint: log.checkpointAt(6) })).toMatchObject({ ok: true, from: 10, to: 24 });
      const sub = join(root, "sub");
      await writeExportDir(sub, full);
      await mkdir(join(sub, "extra"));
      expect(await verifyExport(sub, { publicKeyJwk: jwk })).toMatchObject({ ok: false, code: "file_unexpected", file: "extra" });
      const linked = join(root, "linked");
      await writeExportDir(linked, withFile(full, PREFIX_FILE, undefined));
      await symlink(join(sub, PREFIX_FILE), join(linked, PREFIX_FILE));
      expect(await verifyExport(linked, { publicKeyJwk: jwk })).toMatchObject({ ok: false, code: "file_unexpected", file: PREFIX_FILE });
      const missing = join(root, "missing");
      await writeExportDir(missing, withFile(full, CHECKPOINT_FILE, undefined));
      expect(await verifyExport(missing, { publicKeyJwk: jwk })).toMatchObject({ ok: false, code: "file_missing", file: CHECKPOINT_FILE });
      const flipped = join(root, "flipped");
      await writeExportDir(flipped, full);
      await writeFile(join(flipped, ENTRIES_FILE), flipBit(full.get(ENTRIES_FILE) as Buffer, 800));
      expect(await verifyExport(flipped, { publicKeyJwk: jwk })).toMatchObject({ ok: false, code: "file_digest", file: ENTRIES_FILE });
      expect(await verifyExport(join(root, "nowhere"), { publicKeyJwk: jwk })).toMatchObject({ ok: false, code: "io_error" });
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
