import { createHash } from "node:crypto";
import { mkdir, open, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CompactSign } from "jose";
import type { Pool } from "pg";
import { CheckpointError, verifyCheckpoint, type Checkpoint, type NoteVerifier } from "../core/checkpoint.js";
import type { SigningKey } from "../core/keys.js";
import {
  CHECKPOINT_FILE,
  CONSISTENCY_FILE,
  ENTRIES_FILE,
  EXPORT_FORMAT,
  formatConsistency,
  formatPrefix,
  MANIFEST_FILE,
  PREFIX_FILE,
  type ExportManifest,
  type ListedFile,
  type ExportPrefix,
} from "../verify/export-format.js";
import { AuditLogReader, type LeafLinesPage, type StoredCheckpoint } from "./reader.js";

export interface ExportAuditOptions {
  pool: Pool;
  /** Created if missing; files already in it are never overwritten (the export refuses instead). */
  outDir: string;
  key: SigningKey;
  /** Public keys rotated out (core/keys.ts): a checkpoint stored before a rotation is signed by one of them. */
  retiredKeys?: readonly NoteVerifier[];
  /** First index, or a time: the first leaf whose event time is at or after it. Default 0. */
  from?: number | Date;
  /**
   * End index (exclusive), or a time: one past the last leaf whose event time is before it. Rounded down to the
   * largest stored checkpoint, since an export ends at a signed tree. Default: the latest checkpoint.
   */
  to?: number | Date;
  /** Size of a checkpoint the auditor already holds: the export then proves its own tree extends that one. */
  previousSize?: number;
  /** Leaves written so far, of how many. */
  onProgress?: (done: number, total: number) => void;
}

export interface ExportAuditResult {
  from: number;
  to: number;
  /** Present when the export ends before the `to` asked for (see ExportPlan.shortOf). */
  shortOf?: ExportShortfall;
  /** File name → SHA-256 (hex), as the manifest lists them. */
  files: ExportManifest["files"];
}

/** Which part of the log to export; the same choices for the directory export and the HTTP archive. */
export interface ExportRange {
  from?: number | Date;
  to?: number | Date;
  previousSize?: number;
}

/**
 * Why an export ends before the `to` asked for: it ends at a signed tree, and the log signed none of exactly that
 * size. `requested` is the index `to` resolved to (a time becomes one past the last leaf before it); `nextSize` is
 * the smallest signed tree beyond it, if any (an export up to there holds every leaf asked for).
 */
export interface ExportShortfall {
  requested: number;
  nextSize: number | null;
}

/** Everything an export holds except the entries' bytes, which are streamed, and the manifest, signed last. */
export interface ExportPlan {
  from: number;
  to: number;
  shortOf?: ExportShortfall;
  origin: string;
  /** prefix.json, checkpoint and (when asked) consistency.json, in the order they are written. */
  smallFiles: Array<[ListedFile, Buffer]>;
  /** entries.jsonl, a page of lines at a time. */
  entries(): AsyncIterable<LeafLinesPage>;
}

/** Resolves the range against the stored checkpoints and prepares every small file of the export. */
export async function planExport(reader: AuditLogReader, key: SigningKey, range: ExportRange, retiredKeys: readonly NoteVerifier[] = []): Promise<ExportPlan> {
  const { checkpoint, requested } = await endCheckpoint(reader, range.to);
  const to = checkpoint.size;
  const shortOf = requested !== null && requested > to ? { requested, nextSize: (await reader.checkpointAbove(requested))?.size ?? null } : undefined;
  const from = await startIndex(reader, range.from, to);
  const origin = checkpointOrigin(checkpoint, [key, ...retiredKeys]);
  const { previousSize } = range;
  if (previousSize !== undefined && !(Number.isSafeInteger(previousSize) && previousSize >= 1 && previousSize <= to)) {
    throw new RangeError(`previousSize ${previousSize} must be a whole number from 1 to the export's tree size ${to}`);
  }
  const smallFiles: ExportPlan["smallFiles"] = [
    [PREFIX_FILE, Buffer.from(formatPrefix(await prefixOf(reader, from)), "utf8")],
    [CHECKPOINT_FILE, Buffer.from(checkpoint.note, "utf8")],
  ];
  if (previousSize !== undefined) {
    const proof = await reader.consistencyProof(previousSize, to);
    const consistency = formatConsistency({ oldSize: previousSize, newSize: to, proof: proof.map((hash) => hash.toString("base64")) });
    smallFiles.push([CONSISTENCY_FILE, Buffer.from(consistency, "utf8")]);
  }
  return { from, to, ...(shortOf === undefined ? {} : { shortOf }), origin, smallFiles, entries: () => reader.leafLines(from, to) };
}

/** The manifest as a compact JWS (EdDSA), signed with the log's key. */
export async function signManifest(key: SigningKey, manifest: ExportManifest): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(manifest)))
    .setProtectedHeader({ alg: "EdDSA", kid: key.name })
    .sign(key.privateKey);
}

export const sha256Hex = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** Writes an export of the leaves [from, to) that an auditor can verify offline, and signs its manifest. */
export async function exportAudit(options: ExportAuditOptions): Promise<ExportAuditResult> {
  const plan = await planExport(new AuditLogReader(options.pool), options.key, options, options.retiredKeys);
  const { from, to } = plan;
  await mkdir(options.outDir, { recursive: true });
  const digests: Partial<Record<ListedFile, string>> = {
    [ENTRIES_FILE]: await writeEntries(plan, join(options.outDir, ENTRIES_FILE), options.onProgress),
  };
  for (const [name, bytes] of plan.smallFiles) digests[name] = await writeNew(options.outDir, name, bytes);
  const files = digests as ExportManifest["files"];
  const manifest: ExportManifest = { format: EXPORT_FORMAT, origin: plan.origin, from, to, files, createdAt: new Date().toISOString() };
  await writeNew(options.outDir, MANIFEST_FILE, Buffer.from(await signManifest(options.key, manifest), "utf8"));
  return { from, to, ...(plan.shortOf === undefined ? {} : { shortOf: plan.shortOf }), files };
}

/** The leaves [from, to) as export's entries.jsonl streams them (each leaf then "\n"), for an HTTP response. */
export async function* streamAuditEntries(pool: Pool, from: number, to: number): AsyncIterable<Buffer> {
  for await (const page of new AuditLogReader(pool).leafLines(from, to)) yield page.lines;
}

async function endCheckpoint(reader: AuditLogReader, to: number | Date | undefined): Promise<{ checkpoint: StoredCheckpoint; requested: number | null }> {
  if (typeof to === "number" && !(Number.isSafeInteger(to) && to >= 0)) throw new RangeError(`to ${to} is not an index`);
  const requested = to === undefined ? null : to instanceof Date ? await reader.endIndexBefore(to) : to;
  const checkpoint = requested === null ? await reader.latestCheckpoint() : await reader.checkpointAtOrBelow(requested);
  if (checkpoint === null) {
    throw new RangeError(`no signed checkpoint ${requested === null ? "yet" : `at or below size ${requested}`}: nothing to export`);
  }
  return { checkpoint, requested };
}

async function startIndex(reader: AuditLogReader, from: number | Date | undefined, to: number): Promise<number> {
  if (from === undefined) return 0;
  // A time past the last exported leaf means no leaf in the window: an empty export that still proves the tree.
  if (from instanceof Date) return Math.min((await reader.firstIndexAtOrAfter(from)) ?? to, to);
  if (!(Number.isSafeInteger(from) && from >= 0 && from <= to)) {
    throw new RangeError(`from ${from} must be a whole number from 0 to the export's tree size ${to}`);
  }
  return from;
}

/**
 * The origin an auditor will see, checked now: an export whose checkpoint no key of the log verifies is useless.
 * The current key comes first; a checkpoint signed before a rotation verifies with a retired key.
 */
function checkpointOrigin(checkpoint: StoredCheckpoint, keys: readonly [NoteVerifier, ...NoteVerifier[]]): string {
  const signed = verifyWithAny(checkpoint.note, keys);
  if (signed.size !== checkpoint.size || !signed.root.equals(checkpoint.root)) {
    throw new Error(`stored checkpoint ${checkpoint.size} does not match its own signed note`);
  }
  return signed.origin;
}

/** The first key's verdict is the one reported when none verifies: the current key's. */
function verifyWithAny(note: string, keys: readonly [NoteVerifier, ...NoteVerifier[]]): Checkpoint {
  let firstError: unknown;
  for (const { name, publicKey } of keys) {
    try {
      return verifyCheckpoint(note, { name, publicKey });
    } catch (error) {
      if (!(error instanceof CheckpointError)) throw error;
      firstError ??= error;
    }
  }
  throw firstError;
}

/** What an auditor needs to recompute the root from the exported leaves alone, and to check the first one's prev. */
async function prefixOf(reader: AuditLogReader, from: number): Promise<ExportPrefix> {
  const hashes = await reader.frontierAt(from);
  const chain = await reader.chainHashBefore(from);
  return { size: from, hashes: hashes.map((hash) => hash.toString("base64")), chain: chain.toString("hex") };
}

async function writeEntries(plan: ExportPlan, path: string, onProgress: ExportAuditOptions["onProgress"]): Promise<string> {
  const digest = createHash("sha256");
  const file = await open(path, "wx");
  try {
    for await (const page of plan.entries()) {
      digest.update(page.lines);
      await file.write(page.lines);
      onProgress?.(page.end - plan.from, plan.to - plan.from);
    }
  } finally {
    await file.close();
  }
  return digest.digest("hex");
}

async function writeNew(dir: string, name: string, bytes: Buffer): Promise<string> {
  await writeFile(join(dir, name), bytes, { flag: "wx" });
  return sha256Hex(bytes);
}
