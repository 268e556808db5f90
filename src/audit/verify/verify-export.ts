import { isUtf8 } from "node:buffer";
import { createHash, verify as verifySignature, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { decodeStandardBase64, type Checkpoint } from "../core/checkpoint.js";
import { LeafError, decodeLeaf } from "../core/entry.js";
import type { KeyIdentity } from "../core/key-identity.js";
import { CompactRange, CompactRangeBuilder, verifyConsistency } from "../core/merkle.js";
import { sha256 } from "../core/sha256.js";
import {
  CHECKPOINT_FILE,
  CONSISTENCY_FILE,
  ENTRIES_FILE,
  EXPORT_FORMAT,
  LISTED_FILES,
  MANIFEST_FILE,
  MAX_LEAF_BYTES,
  MAX_SMALL_FILE_BYTES,
  PREFIX_FILE,
  REQUIRED_FILES,
  type ExportManifest,
  type ListedFile,
} from "./export-format.js";
import { leafShapeProblem } from "./json-shape.js";
import { KeyRefused, KeyTerms, type Retirement } from "./key-terms.js";
import { RotationChain, RotationInvalid, rotationOf, type RotationLeaf } from "./rotation-leaf.js";
import { NoteRefused, distinctIdentities, trustedKeys, verifySignedCheckpoint, type TrustedKey } from "./trusted-keys.js";

/**
 * The offline verifier of an audit export (audit/FORMAT.md). It needs node built-ins and src/audit/core only — no
 * jose, no database — so that it bundles into the single file audit/verify.mjs that auditors run.
 */

export type VerifyFailureCode =
  | "key_invalid"
  | "io_error"
  | "manifest_invalid"
  | "manifest_signature"
  | "file_missing"
  | "file_unexpected"
  | "file_digest"
  | "checkpoint_invalid"
  | "checkpoint_signature"
  | "prefix_invalid"
  | "entry_malformed"
  | "entry_not_canonical"
  | "index_gap"
  | "chain_broken"
  | "entry_count"
  | "root_mismatch"
  | "range_mismatch"
  | "origin_mismatch"
  | "rollback"
  | "fork"
  | "consistency_missing"
  | "consistency_failed"
  | "rotation_invalid"
  | "key_retired"
  | "key_unbounded";

/** What the export says about an earlier tree, and against what that was checked. */
export interface ConsistencyVerdict {
  oldSize: number;
  /** Base64 root of the earlier tree; absent when it could not be known (see `against`). */
  oldRoot?: string;
  /**
   * "previous-checkpoint": against the checkpoint the auditor trusts (options.previousCheckpoint);
   * "exported-leaves": the exported leaves themselves span the earlier size, so its root was recomputed;
   * "unchecked": consistency.json extends a size before `from` and no previous checkpoint was given.
   */
  against: "previous-checkpoint" | "exported-leaves" | "unchecked";
}

export type VerifyVerdict =
  | {
      ok: true;
      origin: string;
      from: number;
      to: number;
      root: string;
      checked: number;
      /** The keys that signed the checkpoint and the manifest (two after a rotation), as named out of band. */
      keys: KeyIdentity[];
      /** Absent when the export extends no earlier tree and no previous checkpoint was given: nothing was linked. */
      consistency?: ConsistencyVerdict;
      /** Keys given that key.rotated leaves of the export retire: the auditor's --retired for later trees. */
      retirements?: Retirement[];
    }
  | { ok: false; code: VerifyFailureCode; reason: string; index?: number; file?: string };

export interface VerifyOptions {
  /**
   * The log's public key as a JWK (RFC 8037 OKP/Ed25519), its kid the note key name; or several, for a log whose key
   * was rotated: a checkpoint or manifest verifies when any of them signed it.
   */
  publicKeyJwk: unknown | readonly unknown[];
  /** "KEY@INDEX" for each retired key among them: where it was retired, as the auditor knows it (key-terms.ts). */
  retired?: readonly string[];
  /** Signed note text of a checkpoint the auditor already trusts. */
  previousCheckpoint?: string;
}

/** Verifies the export in `dir`; never throws (I/O failures are the verdict `io_error`). */
export async function verifyExport(dir: string, options: VerifyOptions): Promise<VerifyVerdict> {
  return verifyExportSource(directorySource(dir), options);
}

/** Where an export's files come from: a directory, or memory (tests verify thousands of exports this way). */
export interface ExportSource {
  /** Every entry of the export, and whether it is a regular file (symbolic links and folders are not). */
  list(): Promise<Array<{ name: string; file: boolean; size?: number }>>;
  /** The whole file, or undefined when it is larger than `limit` bytes. */
  read(name: string, limit: number): Promise<Buffer | undefined>;
  /** The file's bytes, in chunks. */
  stream(name: string): AsyncIterable<Uint8Array>;
}

export function directorySource(dir: string): ExportSource {
  return {
    async list() {
      const entries = await readdir(dir, { withFileTypes: true });
      return Promise.all(
        entries.map(async (entry) =>
          entry.isFile() ? { name: entry.name, file: true, size: (await stat(join(dir, entry.name))).size } : { name: entry.name, file: false },
        ),
      );
    },
    async read(name, limit) {
      const handle = await open(join(dir, name), "r");
      try {
        if ((await handle.stat()).size > limit) return undefined;
        const bytes = await handle.readFile();
        return bytes.length > limit ? undefined : bytes;
      } finally {
        await handle.close();
      }
    },
    stream(name) {
      return createReadStream(join(dir, name), { highWaterMark: 1024 * 1024 });
    },
  };
}

/** An export held in memory; `chunkSize` splits streams into small pieces to exercise line reassembly. */
export function memorySource(files: ReadonlyMap<string, Uint8Array>, options: { chunkSize?: number } = {}): ExportSource {
  const chunkSize = options.chunkSize ?? 1024 * 1024;
  const get = (name: string): Uint8Array => {
    const bytes = files.get(name);
    if (bytes === undefined) throw Object.assign(new Error(`ENOENT: ${name}`), { code: "ENOENT" });
    return bytes;
  };
  return {
    async list() {
      return [...files].map(([name, bytes]) => ({ name, file: true, size: bytes.length }));
    },
    async read(name, limit) {
      const bytes = get(name);
      return bytes.length > limit ? undefined : Buffer.from(bytes);
    },
    async *stream(name) {
      const bytes = get(name);
      for (let offset = 0; offset < bytes.length; offset += chunkSize) yield bytes.subarray(offset, offset + chunkSize);
    },
  };
}

class Failure extends Error {
  constructor(
    readonly code: VerifyFailureCode,
    readonly reason: string,
    readonly details: { index?: number; file?: string } = {},
  ) {
    super(reason);
  }

  verdict(): VerifyVerdict {
    return { ok: false, code: this.code, reason: this.reason, ...this.details };
  }
}

/**
 * Whether entries are checked with a second thread: "auto" (the default) does so for exports of 4 MiB and more when
 * this module runs as JavaScript; "always" insists (tests of the bundle); "never" stays in one thread.
 */
export type ParallelMode = "auto" | "always" | "never";

/** verifyExport over any source. Check order: key, manifest, files, checkpoint, prefix, entries, ends, the keys at their sizes, consistency. */
export async function verifyExportSource(source: ExportSource, options: VerifyOptions, mode: ParallelMode = "auto"): Promise<VerifyVerdict> {
  try {
    try {
      return await verifySource(source, options, mode);
    } catch (error) {
      // A worker that cannot start or dies: the same checks in one thread give the same verdict.
      if (error instanceof WorkerUnavailable && mode !== "never") return await verifySource(source, options, "never");
      throw error;
    }
  } catch (error) {
    if (error instanceof Failure) return error.verdict();
    const code = (error as { code?: unknown }).code;
    return { ok: false, code: "io_error", reason: `cannot read the export: ${typeof code === "string" ? `${code}: ` : ""}${(error as Error).message}` };
  }
}

async function verifySource(source: ExportSource, options: VerifyOptions, mode: ParallelMode): Promise<VerifyVerdict> {
  // 1. The key(s) the auditor was given.
  let keys: TrustedKey[];
  try {
    keys = trustedKeys(options.publicKeyJwk, options.retired);
  } catch (error) {
    throw new Failure("key_invalid", (error as Error).message);
  }

  // 2. The manifest: its signature, then its contents.
  const entries = await source.list();
  const listing = new Map(entries.map((entry) => [entry.name, entry.file]));
  const listingSizes = new Map(entries.map((entry) => [entry.name, entry.size]));
  if (!listing.has(MANIFEST_FILE)) throw new Failure("file_missing", `${MANIFEST_FILE} is missing`, { file: MANIFEST_FILE });
  if (listing.get(MANIFEST_FILE) !== true) throw new Failure("manifest_invalid", `${MANIFEST_FILE} is not a regular file`, { file: MANIFEST_FILE });
  const manifestBytes = await source.read(MANIFEST_FILE, MAX_SMALL_FILE_BYTES);
  if (manifestBytes === undefined) throw new Failure("manifest_invalid", `${MANIFEST_FILE} is larger than ${MAX_SMALL_FILE_BYTES} bytes`, { file: MANIFEST_FILE });
  const { manifest, key: manifestKey } = verifyManifest(manifestBytes, keys);

  // 3. Every file present, nothing else, each with the digest the manifest signed.
  const listed = Object.keys(manifest.files) as ListedFile[];
  for (const name of [...listing.keys()].sort()) {
    if (name === MANIFEST_FILE) continue;
    // Quoted: a name is the export's, and could otherwise carry a line break and a verdict of its own.
    if (!(listed as string[]).includes(name)) throw new Failure("file_unexpected", `${JSON.stringify(name)} is not listed in the manifest`, { file: name });
    if (listing.get(name) !== true) throw new Failure("file_unexpected", `${JSON.stringify(name)} is not a regular file`, { file: name });
  }
  for (const name of listed) {
    if (!listing.has(name)) throw new Failure("file_missing", `${JSON.stringify(name)} is listed in the manifest but missing`, { file: name });
  }
  const small = new Map<ListedFile, Buffer | undefined>();
  for (const name of listed) {
    if (name === ENTRIES_FILE) continue;
    const bytes = await source.read(name, MAX_SMALL_FILE_BYTES);
    const digest = bytes === undefined ? await streamDigest(source, name) : sha256(bytes).toString("hex");
    if (digest !== manifest.files[name]) throw new Failure("file_digest", `${name} does not have the SHA-256 the manifest lists`, { file: name });
    small.set(name, bytes);
  }

  // Read and checked now, reported in their turn: entries.jsonl's digest is only known once it has been streamed.
  const checkpoint = attempt(() => parseSignedCheckpoint(small.get(CHECKPOINT_FILE), keys));
  const prefix = attempt(() => parsePrefix(small.get(PREFIX_FILE)));
  const consistency = listed.includes(CONSISTENCY_FILE) ? attempt(() => parseConsistency(small.get(CONSISTENCY_FILE))) : undefined;
  const previous = options.previousCheckpoint === undefined ? undefined : attempt(() => parsePreviousCheckpoint(options.previousCheckpoint, keys));

  // 4. entries.jsonl in one streaming pass: its digest, and (when checkpoint and prefix are sound) every leaf.
  const digest = createHash("sha256");
  const wanted = new Set<number>();
  if (previous?.ok) wanted.add(previous.value.checkpoint.size);
  if (consistency?.ok) wanted.add(consistency.value.oldSize);
  const entriesSize = listingSizes.get(ENTRIES_FILE);
  const parallel = mode === "always" || (mode === "auto" && workerPossible() && entriesSize !== undefined && entriesSize >= PARALLEL_MIN_BYTES);
  const walked = await walkEntries(source, digest, prefix.ok && checkpoint.ok ? { prefix: prefix.value, wanted, parallel, origin: checkpoint.value.checkpoint.origin } : undefined);
  if (digest.digest("hex") !== manifest.files[ENTRIES_FILE]) {
    throw new Failure("file_digest", `${ENTRIES_FILE} does not have the SHA-256 the manifest lists`, { file: ENTRIES_FILE });
  }
  const { checkpoint: signed, key: checkpointKey } = settle(checkpoint);
  const start = settle(prefix);
  if (walked === undefined) throw new Error("unreachable: entries were not walked");
  if (walked.failure !== undefined) throw walked.failure;
  const walker = { from: start.range.size, count: walked.count, rootAt: (size: number) => walked.roots.get(size) };

  // 5. The ends: as many leaves as the checkpoint says, its root, and the manifest's claims.
  const from = start.range.size;
  const to = signed.size;
  if (walker.count !== to - from) {
    throw new Failure(
      "entry_count",
      `${ENTRIES_FILE} holds ${walker.count} entries from index ${from}, but the checkpoint's tree has ${to} leaves` +
        (to < from ? ` (fewer than the ${from} of prefix.json)` : `, so ${to - from} were expected`),
      { file: ENTRIES_FILE, ...(walker.count < to - from ? { index: from + walker.count } : {}) },
    );
  }
  const root = walked.root;
  if (!root.equals(signed.root)) {
    throw new Failure("root_mismatch", `the root of prefix.json and ${ENTRIES_FILE} (${root.toString("base64")}) is not the checkpoint's root (${signed.root.toString("base64")})`, {
      file: CHECKPOINT_FILE,
    });
  }
  if (manifest.from !== from || manifest.to !== to) {
    throw new Failure("range_mismatch", `the manifest says entries [${manifest.from}, ${manifest.to}) but prefix.json and the checkpoint say [${from}, ${to})`, {
      file: MANIFEST_FILE,
    });
  }
  if (manifest.origin !== signed.origin) {
    throw new Failure("origin_mismatch", `the manifest's origin ${JSON.stringify(manifest.origin)} is not the checkpoint's ${JSON.stringify(signed.origin)}`, {
      file: MANIFEST_FILE,
    });
  }

  // 6. The keys at the sizes they signed: a retired key signs no tree past its rotation (key-terms.ts).
  const terms = new KeyTerms(keys, { rotations: walked.rotations });
  requireKeyInForce(terms, to, checkpointKey, "the checkpoint", CHECKPOINT_FILE);
  const kept = previous === undefined ? undefined : settle(previous);
  if (kept !== undefined) requireKeyInForce(terms, kept.checkpoint.size, kept.key, "the previous checkpoint");

  // 7. Against the past: the trusted previous checkpoint and/or the consistency proof.
  const keysUsed = distinctIdentities([checkpointKey, manifestKey]);
  const retirements = terms.retirements();
  const result = {
    ok: true as const,
    origin: signed.origin,
    from,
    to,
    root: signed.root.toString("base64"),
    checked: walker.count,
    keys: keysUsed,
    ...(retirements.length === 0 ? {} : { retirements }),
  };
  const extension = checkConsistency(signed, walker, kept?.checkpoint, consistency === undefined ? undefined : settle(consistency));
  return extension === undefined ? result : { ...result, consistency: extension };
}

/** Throws the Failure of key-terms.ts unless `key` may sign a checkpoint of `size` leaves. */
function requireKeyInForce(terms: KeyTerms, size: number, key: TrustedKey, what: string, file?: string): void {
  try {
    terms.check(size, key, what);
  } catch (error) {
    if (error instanceof KeyRefused) throw new Failure(error.code, error.message, file === undefined ? {} : { file });
    throw error;
  }
}

function checkConsistency(
  signed: Checkpoint,
  walker: { from: number; rootAt(size: number): Buffer | undefined },
  previous: Checkpoint | undefined,
  proof: ParsedConsistency | undefined,
): ConsistencyVerdict | undefined {
  const to = signed.size;
  if (previous !== undefined) {
    if (previous.origin !== signed.origin) {
      throw new Failure("origin_mismatch", `the previous checkpoint is of log ${JSON.stringify(previous.origin)}, the export of ${JSON.stringify(signed.origin)}`);
    }
    if (previous.size > to) {
      throw new Failure("rollback", `the previous checkpoint has ${previous.size} leaves, the export's only ${to}: the log went back`, { file: CHECKPOINT_FILE });
    }
    if (previous.size === to && !previous.root.equals(signed.root)) {
      throw new Failure("fork", `the previous checkpoint and the export's both have ${to} leaves but different roots: the log forked`, { file: CHECKPOINT_FILE });
    }
  }
  if (proof !== undefined) {
    if (proof.newSize !== to) {
      throw new Failure("consistency_failed", `${CONSISTENCY_FILE} proves size ${proof.newSize}, the checkpoint has ${to} leaves`, { file: CONSISTENCY_FILE });
    }
    if (proof.oldSize > proof.newSize) {
      throw new Failure("consistency_failed", `${CONSISTENCY_FILE} goes from size ${proof.oldSize} down to ${proof.newSize}`, { file: CONSISTENCY_FILE });
    }
    // Whatever else is known, a proof in the export must be right.
    const trusted = previous !== undefined && previous.size === proof.oldSize ? previous.root : undefined;
    const oldRoot = trusted ?? walker.rootAt(proof.oldSize);
    if (oldRoot !== undefined && !verifyConsistency(proof.oldSize, to, oldRoot, signed.root, proof.proof)) {
      throw new Failure(
        "consistency_failed",
        `${CONSISTENCY_FILE} does not prove that the tree of ${to} leaves extends the ${trusted === undefined ? "exported leaves' tree" : "previous checkpoint's tree"} of ${proof.oldSize}`,
        { file: CONSISTENCY_FILE },
      );
    }
    if (previous === undefined) {
      return oldRoot === undefined
        ? { oldSize: proof.oldSize, against: "unchecked" }
        : { oldSize: proof.oldSize, oldRoot: oldRoot.toString("base64"), against: "exported-leaves" };
    }
    if (trusted !== undefined) return { oldSize: previous.size, oldRoot: previous.root.toString("base64"), against: "previous-checkpoint" };
  }
  if (previous === undefined) return undefined;
  const verdict: ConsistencyVerdict = { oldSize: previous.size, oldRoot: previous.root.toString("base64"), against: "previous-checkpoint" };
  if (previous.size === to) return verdict;
  // The exported leaves span the previous size: recompute its root rather than rely on a proof.
  const rootThen = walker.rootAt(previous.size);
  if (rootThen === undefined) {
    if (proof !== undefined) {
      throw new Failure(
        "consistency_failed",
        `${CONSISTENCY_FILE} starts at size ${proof.oldSize}, not at the previous checkpoint's ${previous.size} (before the export's first index ${walker.from})`,
        { file: CONSISTENCY_FILE },
      );
    }
    throw new Failure(
      "consistency_missing",
      `the previous checkpoint has ${previous.size} leaves, before the export's first index ${walker.from}, and there is no ${CONSISTENCY_FILE} to link it`,
    );
  }
  if (!rootThen.equals(previous.root)) {
    throw new Failure("fork", `the exported leaves give another root at size ${previous.size} than the previous checkpoint: the log forked`, { file: ENTRIES_FILE });
  }
  return verdict;
}

// ------------------------------------------------------------------------------------------------------------------
// The manifest (a compact JWS, verified with node:crypto alone)
// ------------------------------------------------------------------------------------------------------------------

const BASE64URL = /^[A-Za-z0-9_-]*$/;
const HEX_DIGEST = /^[0-9a-f]{64}$/;
const MANIFEST_FIELDS = ["format", "origin", "from", "to", "files", "createdAt"];

const keyNames = (keys: readonly TrustedKey[]) => [...new Set(keys.map((key) => JSON.stringify(key.name)))].join(" or ");

function verifyManifest(bytes: Buffer, keys: readonly TrustedKey[]): { manifest: ExportManifest; key: TrustedKey } {
  const invalid = (why: string) => new Failure("manifest_invalid", `${MANIFEST_FILE}: ${why}`, { file: MANIFEST_FILE });
  let text = bytes.toString("latin1");
  if (text.endsWith("\n")) text = text.slice(0, -1);
  const parts = text.split(".");
  if (parts.length !== 3) throw invalid("not a compact JWS (three base64url parts separated by dots)");
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = decodeJsonPart(headerPart);
  if (header === undefined || !isObject(header)) throw invalid("the JWS header is not base64url JSON object");
  if (header["alg"] !== "EdDSA") throw invalid(`the JWS alg is ${JSON.stringify(header["alg"])}, not "EdDSA"`);
  if (Object.hasOwn(header, "crit")) throw invalid("the JWS header has crit: no extension is understood");
  if (Object.hasOwn(header, "b64")) throw invalid("the JWS header has b64: the payload must be base64url-encoded");
  if (typeof header["kid"] !== "string") throw invalid("the JWS header has no kid");
  const named = keys.filter((key) => key.name === header["kid"]);
  if (named.length === 0) {
    throw new Failure("manifest_signature", `${MANIFEST_FILE} is signed by key ${JSON.stringify(header["kid"])}, not by ${keyNames(keys)}`, {
      file: MANIFEST_FILE,
    });
  }
  const signature = decodeBase64url(signaturePart);
  if (signature === undefined || signature.length !== 64) throw invalid("the JWS signature is not base64url of 64 bytes");
  if (decodeBase64url(payloadPart) === undefined) throw invalid("the JWS payload is not base64url");
  const signed = Buffer.from(`${headerPart}.${payloadPart}`, "ascii");
  const signer = named.find((key) => verifySignature(null, signed, key.publicKey, signature));
  if (signer === undefined) {
    throw new Failure("manifest_signature", `the signature of ${MANIFEST_FILE} does not verify with ${named.length === 1 ? "key" : "any key named"} ${keyNames(named)}`, {
      file: MANIFEST_FILE,
    });
  }

  const payload = decodeJsonPart(payloadPart);
  if (!isObject(payload)) throw invalid("the payload is not a JSON object");
  for (const field of Object.keys(payload)) if (!MANIFEST_FIELDS.includes(field)) throw invalid(`unexpected field ${JSON.stringify(field)}`);
  for (const field of MANIFEST_FIELDS) if (!Object.hasOwn(payload, field)) throw invalid(`no ${field}`);
  const { format, origin, from, to, files, createdAt } = payload;
  if (format !== EXPORT_FORMAT) throw invalid(`format ${JSON.stringify(format)} is not ${JSON.stringify(EXPORT_FORMAT)}`);
  if (typeof origin !== "string" || origin.length === 0) throw invalid("origin is not a non-empty string");
  if (!isIndex(from) || !isIndex(to) || from > to) throw invalid("from and to are not indexes with from ≤ to");
  if (typeof createdAt !== "string" || Number.isNaN(Date.parse(createdAt))) throw invalid("createdAt is not an ISO 8601 time");
  if (!isObject(files)) throw invalid("files is not an object");
  for (const [name, digest] of Object.entries(files)) {
    if (!(LISTED_FILES as readonly string[]).includes(name)) throw invalid(`files lists ${JSON.stringify(name)}, which is no file of the format`);
    if (typeof digest !== "string" || !HEX_DIGEST.test(digest)) throw invalid(`the digest of ${name} is not 64 lowercase hex digits`);
  }
  for (const name of REQUIRED_FILES) if (!Object.hasOwn(files, name)) throw invalid(`files does not list ${name}`);
  return { manifest: payload as unknown as ExportManifest, key: signer };
}

function decodeBase64url(text: string): Buffer | undefined {
  if (!BASE64URL.test(text)) return undefined;
  const bytes = Buffer.from(text, "base64url");
  return bytes.toString("base64url") === text ? bytes : undefined;
}

function decodeJsonPart(part: string): unknown {
  const bytes = decodeBase64url(part);
  if (bytes === undefined || !isUtf8(bytes)) return undefined;
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch {
    return undefined;
  }
}

// ------------------------------------------------------------------------------------------------------------------
// checkpoint, prefix.json, consistency.json, the previous checkpoint
// ------------------------------------------------------------------------------------------------------------------

type Attempt<T> = { ok: true; value: T } | { ok: false; failure: Failure };

function attempt<T>(run: () => T): Attempt<T> {
  try {
    return { ok: true, value: run() };
  } catch (error) {
    if (error instanceof Failure) return { ok: false, failure: error };
    throw error;
  }
}

function settle<T>(result: Attempt<T>): T {
  if (!result.ok) throw result.failure;
  return result.value;
}

type SignedCheckpoint = { checkpoint: Checkpoint; key: TrustedKey };

function parseSignedCheckpoint(bytes: Buffer | undefined, keys: readonly TrustedKey[]): SignedCheckpoint {
  return checkNote(bytes, keys, CHECKPOINT_FILE, "checkpoint");
}

function parsePreviousCheckpoint(note: unknown, keys: readonly TrustedKey[]): SignedCheckpoint {
  if (typeof note !== "string") throw new Failure("checkpoint_invalid", "the previous checkpoint is not text");
  return checkNote(Buffer.from(note, "utf8"), keys, undefined, "the previous checkpoint");
}

function checkNote(bytes: Buffer | undefined, keys: readonly TrustedKey[], file: string | undefined, what: string): SignedCheckpoint {
  const at = file === undefined ? {} : { file };
  if (bytes === undefined) throw new Failure("checkpoint_invalid", `${what} is larger than ${MAX_SMALL_FILE_BYTES} bytes`, at);
  try {
    return verifySignedCheckpoint(bytes, keys, what);
  } catch (error) {
    if (error instanceof NoteRefused) throw new Failure(error.code, error.message, at);
    throw error;
  }
}

interface ParsedPrefix {
  range: CompactRange;
  chain: Buffer;
}

function parsePrefix(bytes: Buffer | undefined): ParsedPrefix {
  const invalid = (why: string) => new Failure("prefix_invalid", `${PREFIX_FILE}: ${why}`, { file: PREFIX_FILE });
  const value = parseJsonFile(bytes, invalid);
  exactFields(value, ["size", "hashes", "chain"], invalid);
  const { size, hashes, chain } = value;
  if (!isIndex(size)) throw invalid("size is not a non-negative safe integer");
  if (!Array.isArray(hashes)) throw invalid("hashes is not an array");
  const decoded = hashes.map((hash, i) => {
    const bytes = typeof hash === "string" ? decodeStandardBase64(hash) : undefined;
    if (bytes === undefined || bytes.length !== 32) throw invalid(`hashes[${i}] is not base64 of 32 bytes`);
    return bytes;
  });
  if (typeof chain !== "string" || !HEX_DIGEST.test(chain)) throw invalid("chain is not 64 lowercase hex digits");
  if (size === 0 && !/^0{64}$/.test(chain)) throw invalid("chain must be 64 zeros when size is 0");
  let range: CompactRange;
  try {
    range = CompactRange.from(size, decoded);
  } catch (error) {
    throw invalid((error as Error).message);
  }
  return { range, chain: Buffer.from(chain, "hex") };
}

interface ParsedConsistency {
  oldSize: number;
  newSize: number;
  proof: Buffer[];
}

function parseConsistency(bytes: Buffer | undefined): ParsedConsistency {
  const invalid = (why: string) => new Failure("consistency_failed", `${CONSISTENCY_FILE}: ${why}`, { file: CONSISTENCY_FILE });
  const value = parseJsonFile(bytes, invalid);
  exactFields(value, ["oldSize", "newSize", "proof"], invalid);
  const { oldSize, newSize, proof } = value;
  if (!isIndex(oldSize) || !isIndex(newSize)) throw invalid("oldSize and newSize are not non-negative safe integers");
  if (!Array.isArray(proof) || proof.length > 128) throw invalid("proof is not an array of at most 128 hashes");
  const hashes = proof.map((hash, i) => {
    const decoded = typeof hash === "string" ? decodeStandardBase64(hash) : undefined;
    if (decoded === undefined || decoded.length !== 32) throw invalid(`proof[${i}] is not base64 of 32 bytes`);
    return decoded;
  });
  return { oldSize, newSize, proof: hashes };
}

function parseJsonFile(bytes: Buffer | undefined, invalid: (why: string) => Failure): Record<string, unknown> {
  if (bytes === undefined) throw invalid(`larger than ${MAX_SMALL_FILE_BYTES} bytes`);
  if (!isUtf8(bytes)) throw invalid("not UTF-8");
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString("utf8"));
  } catch (error) {
    throw invalid(`not JSON (${(error as Error).message})`);
  }
  if (!isObject(value)) throw invalid("not a JSON object");
  return value;
}

function exactFields(value: Record<string, unknown>, fields: string[], invalid: (why: string) => Failure): void {
  for (const field of Object.keys(value)) if (!fields.includes(field)) throw invalid(`unexpected field ${JSON.stringify(field)}`);
  for (const field of fields) if (!Object.hasOwn(value, field)) throw invalid(`no ${field}`);
}

async function streamDigest(source: ExportSource, name: string): Promise<string> {
  const digest = createHash("sha256");
  for await (const chunk of source.stream(name)) digest.update(chunk);
  return digest.digest("hex");
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isIndex(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

// ------------------------------------------------------------------------------------------------------------------
// entries.jsonl, line by line
// ------------------------------------------------------------------------------------------------------------------

const NEWLINE = 0x0a;
const WORKER_ROLE = "atomic-audit-leaf-inspector";
/** Below this size entries.jsonl is checked in one thread: a worker's start costs more than it saves. */
const PARALLEL_MIN_BYTES = 4 * 1024 * 1024;
/** Chunks handed to the worker and not yet answered: bounds memory whatever the speed of either side. */
const MAX_IN_FLIGHT = 4;

/** What one chunk's complete lines gave: the prev of each good line, the rotations among them, then the first failure if any. */
interface InspectResult {
  lines: number;
  prevs: Uint8Array;
  rotations: RotationLeaf[];
  failure?: { code: VerifyFailureCode; why: string };
}

/**
 * entries.jsonl's lines as their exact bytes. Not readline: it must see the bytes that are hashed, never decode
 * before hashing, and know whether the last line ended with "\n". An unfinished line longer than a leaf may be
 * is reported instead of buffered.
 */
class LineSplitter {
  private partial: Buffer[] = [];
  private partialLength = 0;

  /** Bytes after the last newline: a file that ends with some is cut short. */
  get pendingBytes(): number {
    return this.partialLength;
  }

  /** Hands each complete line to onLine until it returns false. */
  split(chunk: Uint8Array, onLine: (line: Buffer) => boolean): "ok" | "overlong" {
    const bytes = asBuffer(chunk);
    let start = 0;
    while (start < bytes.length) {
      const newline = bytes.indexOf(NEWLINE, start);
      if (newline < 0) {
        this.partialLength += bytes.length - start;
        if (this.partialLength > MAX_LEAF_BYTES) return "overlong";
        this.partial.push(Buffer.from(bytes.subarray(start)));
        return "ok";
      }
      let line = bytes.subarray(start, newline);
      if (this.partial.length > 0) {
        line = Buffer.concat([...this.partial, line]);
        this.partial = [];
        this.partialLength = 0;
      }
      start = newline + 1;
      if (!onLine(line)) return "ok";
    }
    return "ok";
  }
}

/**
 * Checks each line of entries.jsonl on its own: a leaf in canonical form whose index is the next one. Stops at the
 * first bad line. Runs inline, or in a worker thread for big exports.
 */
class LeafInspector {
  private line = 0;
  private readonly lines = new LineSplitter();
  private readonly chain = new RotationChain();
  private failed = false;

  /** `origin`: the checkpoint's, over which key.rotated handovers are signed. */
  constructor(
    private readonly from: number,
    private readonly origin: string,
  ) {}

  push(chunk: Uint8Array): InspectResult {
    const prevs: Buffer[] = [];
    const rotations: RotationLeaf[] = [];
    if (this.failed) return { lines: 0, prevs: new Uint8Array(0), rotations };
    let failure: InspectResult["failure"];
    const split = this.lines.split(chunk, (line) => {
      failure = this.inspect(line, prevs, rotations);
      return failure === undefined;
    });
    if (split === "overlong") failure = { code: "entry_malformed", why: `is longer than ${MAX_LEAF_BYTES} bytes` };
    if (failure !== undefined) this.failed = true;
    return { lines: prevs.length, prevs: Buffer.concat(prevs), rotations, ...(failure === undefined ? {} : { failure }) };
  }

  end(): InspectResult {
    const failure = !this.failed && this.lines.pendingBytes > 0 ? { code: "entry_malformed" as const, why: "does not end with a newline (the file is cut short)" } : undefined;
    return { lines: 0, prevs: new Uint8Array(0), rotations: [], ...(failure === undefined ? {} : { failure }) };
  }

  private inspect(line: Buffer, prevs: Buffer[], rotations: RotationLeaf[]): InspectResult["failure"] {
    if (line.length > MAX_LEAF_BYTES) return { code: "entry_malformed", why: `is longer than ${MAX_LEAF_BYTES} bytes` };
    // Before JSON.parse: the memory it would take is the one thing not bounded by the line's length.
    const costly = leafShapeProblem(line);
    if (costly !== undefined) return { code: "entry_malformed", why: costly };
    const index = this.from + this.line;
    let decoded;
    try {
      decoded = decodeLeaf(line);
    } catch (error) {
      if (!(error instanceof LeafError)) throw error;
      return { code: error.code === "not_canonical" ? "entry_not_canonical" : "entry_malformed", why: error.message };
    }
    if (decoded.index !== index) return { code: "index_gap", why: `holds index ${decoded.index} where index ${index} was expected` };
    let rotation: RotationLeaf | undefined;
    try {
      rotation = rotationOf(decoded.event, index, this.origin);
    } catch (error) {
      if (!(error instanceof RotationInvalid)) throw error;
      return { code: "rotation_invalid", why: error.message };
    }
    if (rotation !== undefined) {
      const broken = this.chain.follow(rotation);
      if (broken !== undefined) return { code: "rotation_invalid", why: broken };
      rotations.push(rotation);
    }
    prevs.push(decoded.prev);
    this.line += 1;
    return undefined;
  }
}

/** The main thread's half: the chain hash and leaf hash of every line, appended to the compact range. */
class LeafHasher {
  private readonly lines = new LineSplitter();
  private overflow = false;
  private scratch = Buffer.alloc(64 * 1024);
  readonly range: CompactRangeBuilder;
  /** Roots at the sizes asked for (only meaningful once every line up to there verified). */
  readonly roots = new Map<number, Buffer>();

  constructor(
    start: CompactRange,
    private readonly wanted: ReadonlySet<number>,
  ) {
    this.range = new CompactRangeBuilder(start);
    if (wanted.has(start.size)) this.roots.set(start.size, start.root());
  }

  /** Chain hashes of the lines this chunk completes. */
  push(chunk: Uint8Array): Buffer[] {
    const chains: Buffer[] = [];
    if (this.overflow) return chains;
    // An overlong line is the inspector's to refuse; here it only means: stop holding on to bytes.
    const split = this.lines.split(chunk, (line) => {
      chains.push(this.hash(line));
      return true;
    });
    if (split === "overlong") this.overflow = true;
    return chains;
  }

  private hash(line: Buffer): Buffer {
    // Leaf hash = SHA-256(0x00 ‖ leaf), without allocating a concatenation per leaf.
    if (this.scratch.length < line.length + 1) this.scratch = Buffer.alloc(Math.max(line.length + 1, this.scratch.length * 2));
    this.scratch[0] = 0x00;
    line.copy(this.scratch, 1);
    this.range.append(sha256(this.scratch.subarray(0, line.length + 1)));
    if (this.wanted.has(this.range.size)) this.roots.set(this.range.size, this.range.root());
    return sha256(line);
  }
}

/** Where the inspector runs: inline, or in a worker (answers come back in order). */
interface InspectorChannel {
  push(chunk: Uint8Array): Promise<InspectResult>;
  end(): Promise<InspectResult>;
  close(): Promise<void>;
}

class WorkerUnavailable extends Error {}

function inlineChannel(from: number, origin: string): InspectorChannel {
  const inspector = new LeafInspector(from, origin);
  return {
    push: async (chunk) => inspector.push(chunk),
    end: async () => inspector.end(),
    close: async () => undefined,
  };
}

function workerChannel(from: number, origin: string): InspectorChannel {
  const worker = new Worker(new URL(import.meta.url), { workerData: { role: WORKER_ROLE, from, origin } });
  const waiting: Array<{ resolve: (result: InspectResult) => void; reject: (error: Error) => void }> = [];
  let broken: Error | undefined;
  const breakAll = (error: Error) => {
    broken ??= new WorkerUnavailable(`the leaf-checking worker failed: ${error.message}`);
    for (const waiter of waiting.splice(0)) waiter.reject(broken);
  };
  worker.on("message", (result: InspectResult) => waiting.shift()?.resolve(result));
  worker.on("error", breakAll);
  worker.on("exit", (code) => breakAll(new Error(`exited with code ${code}`)));
  const ask = (message: unknown, transfer: ArrayBuffer[] = []) => {
    const answer = new Promise<InspectResult>((resolve, reject) => {
      if (broken !== undefined) return reject(broken);
      waiting.push({ resolve, reject });
      worker.postMessage(message, transfer);
    });
    // When the worker fails, the walk stops at the first answer it awaits; the others must not be unhandled.
    answer.catch(() => undefined);
    return answer;
  };
  return {
    push: (chunk) => {
      const copy = new Uint8Array(chunk); // the main thread goes on hashing the original
      return ask({ chunk: copy }, [copy.buffer]);
    },
    end: () => ask({ end: true }),
    close: async () => {
      worker.removeAllListeners("exit");
      await worker.terminate();
    },
  };
}

/** In a worker started by workerChannel: answer each chunk with the inspector's result. */
function serveInspector(): void {
  const port = parentPort;
  if (port === null) return;
  const { from, origin } = workerData as { from: number; origin: string };
  const inspector = new LeafInspector(from, origin);
  port.on("message", (message: { chunk?: Uint8Array; end?: true }) => {
    const result = message.end === true ? inspector.end() : inspector.push(message.chunk as Uint8Array);
    port.postMessage(result, [result.prevs.buffer as ArrayBuffer].filter((buffer) => buffer.byteLength > 0));
  });
}

if (!isMainThread && (workerData as { role?: unknown } | null)?.role === WORKER_ROLE) serveInspector();

/** A worker can run this module only once it is JavaScript (dist/ or the bundle), not TypeScript under a test runner. */
function workerPossible(): boolean {
  return /\.m?js$/.test(new URL(import.meta.url).pathname);
}

interface WalkResult {
  count: number;
  failure?: Failure;
  root: Buffer;
  roots: Map<number, Buffer>;
  /** The key.rotated leaves among the leaves that passed, in order. */
  rotations: RotationLeaf[];
}

/**
 * One pass over entries.jsonl: digest every byte; when `walk` is given, also check every leaf (inspector) and hash it
 * into the tree (hasher), merging the two in line order so the first bad line is the one reported.
 */
async function walkEntries(
  source: ExportSource,
  digest: Hash,
  walk: { prefix: ParsedPrefix; wanted: Set<number>; parallel: boolean; origin: string } | undefined,
): Promise<WalkResult | undefined> {
  if (walk === undefined) {
    for await (const chunk of source.stream(ENTRIES_FILE)) digest.update(chunk);
    return undefined;
  }
  const from = walk.prefix.range.size;
  const hasher = new LeafHasher(walk.prefix.range, walk.wanted);
  const channel = walk.parallel ? workerChannel(from, walk.origin) : inlineChannel(from, walk.origin);
  const pending: Array<{ result: Promise<InspectResult>; chains: Buffer[] }> = [];
  const rotations: RotationLeaf[] = [];
  let count = 0;
  let expectedPrev = walk.prefix.chain;
  let failure: Failure | undefined;
  const fail = (code: VerifyFailureCode, why: string) => {
    const index = from + count;
    failure = new Failure(code, `${ENTRIES_FILE} line ${count + 1} (index ${index}): ${why}`, { index, file: ENTRIES_FILE });
  };
  const merge = (result: InspectResult, chains: readonly Buffer[]) => {
    if (failure !== undefined) return;
    for (let i = 0; i < result.lines; i++) {
      const prev = result.prevs.subarray(32 * i, 32 * i + 32);
      if (!expectedPrev.equals(prev)) {
        const index = from + count;
        fail("chain_broken", index === 0 ? "its prev is not 64 zeros" : index === from ? `its prev is not the chain hash of index ${index - 1} that ${PREFIX_FILE} gives` : `its prev is not the chain hash of index ${index - 1}`);
        break;
      }
      expectedPrev = chains[i] as Buffer;
      count += 1;
    }
    for (const rotation of result.rotations) if (rotation.index < from + count) rotations.push(rotation);
    if (failure === undefined && result.failure !== undefined) fail(result.failure.code, result.failure.why);
  };
  try {
    for await (const chunk of source.stream(ENTRIES_FILE)) {
      digest.update(chunk);
      if (failure !== undefined) continue;
      const result = channel.push(chunk);
      pending.push({ result, chains: hasher.push(chunk) });
      while (pending.length > (walk.parallel ? MAX_IN_FLIGHT : 0)) {
        const next = pending.shift() as { result: Promise<InspectResult>; chains: Buffer[] };
        merge(await next.result, next.chains);
      }
    }
    for (const next of pending.splice(0)) merge(await next.result, next.chains);
    if (failure === undefined) merge(await channel.end(), []);
  } finally {
    await channel.close();
  }
  return { count, ...(failure === undefined ? {} : { failure }), root: hasher.range.root(), roots: hasher.roots, rotations };
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
