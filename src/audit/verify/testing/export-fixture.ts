/**
 * TEST FIXTURE BUILDER — not used in production. Builds valid audit exports (audit/FORMAT.md) WITHOUT a database:
 * synthetic events, leaves chained and hashed exactly as the sequencer does, prefix / checkpoint / consistency files,
 * and the manifest signed with jose's CompactSign like the real exporter. Tests then mutate the files to attack them.
 * The DB exporter's tests may reuse it to compare their output against an independently built export.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CompactSign } from "jose";
import { signCheckpoint } from "../../core/checkpoint.js";
import { GENESIS_CHAIN_HASH, chainHash, encodeLeaf, type AuditEvent } from "../../core/entry.js";
import type { SigningKey } from "../../core/keys.js";
import { CompactRange, consistencyProof, inclusionRanges, leafHash, rootFromLeafHashes } from "../../core/merkle.js";
import { sha256 } from "../../core/sha256.js";
import {
  CHECKPOINT_FILE,
  CONSISTENCY_FILE,
  ENTRIES_FILE,
  EXPORT_FORMAT,
  MANIFEST_FILE,
  PREFIX_FILE,
  formatConsistency,
  formatPrefix,
  type ExportManifest,
} from "../export-format.js";
import { consistencyBody, type ConsistencyBody } from "../consistency-proof.js";
import { receiptBody, type ReceiptBody } from "../receipt.js";

/** An export as file name → bytes (what a directory of it would hold). */
export type ExportFiles = Map<string, Buffer>;

const KINDS: AuditEvent["kind"][] = ["request", "request", "request", "request.refused", "model.loaded", "config.loaded", "startup.selftest"];

/** A deterministic, realistic event for position `i`; `variant` changes its content (for forked logs). */
export function syntheticEvent(i: number, variant = ""): AuditEvent {
  const hex = (n: number, width: number) => (n % 16 ** width).toString(16).padStart(width, "0");
  const kind = KINDS[i % KINDS.length] as AuditEvent["kind"];
  const event: AuditEvent = {
    v: 1,
    id: `0190f5c2-${hex(Math.floor(i / 65536), 4)}-7${hex(i, 3)}-8${hex(i * 7 + variant.length, 3)}-${hex(i * 2654435761, 12)}`,
    time: new Date(Date.UTC(2025, 0, 1) + i * 1234).toISOString(),
    kind,
  };
  if (kind === "request" || kind === "request.refused") {
    event.actor = { subject: `user-${i % 13}`, tenant: "ward-7", tokenIdHash: hex(i * 99991, 12) };
    event.request = { id: `req-${i}`, endpoint: "/v1/chat/completions", executionId: event.id };
    event.model = { id: "llama-3.1-8b-instruct-q4", sha256: sha256(Buffer.from(`model${variant}`)).toString("hex") };
    event.parameters = { temperature: (i % 10) / 10, max_tokens: 256 + i, stop: ["\n\n", "</s>"] };
    event.content = { inputHash: sha256(Buffer.from(`in ${i}${variant}`)).toString("hex"), outputHash: sha256(Buffer.from(`out ${i}`)).toString("hex"), saltId: "3f2a9c1e5b7d0a64" };
    event.usage = { promptTokens: 17 + (i % 100), completionTokens: 3 * i };
    event.latencyMs = 12.5 + i / 8;
    event.outcome = kind === "request" ? { status: "succeeded" } : { status: "refused", code: "policy.denied" };
  } else {
    event.detail = { note: `système prêt — ${i}${variant}`, ok: true, n: 1e21 + i, ratio: 1 / 3 };
  }
  return event;
}

/** A log built in memory: its leaves, their hashes and chain hashes, and signed checkpoints of any size. */
export class SyntheticLog {
  readonly leaves: Buffer[] = [];
  readonly leafHashes: Buffer[] = [];
  /** chains[i] = chain hash of leaf i. */
  readonly chains: Buffer[] = [];
  private readonly ranges: CompactRange[] = [CompactRange.empty()];
  /** The key that signs the tree of `size` leaves (a log whose key rotates changes it); the manifest's is the last. */
  keyAt: (size: number) => SigningKey = () => this.key;

  constructor(
    readonly key: SigningKey,
    readonly origin: string,
  ) {}

  /** A log of `size` synthetic events; `eventFor` picks each event (default syntheticEvent). */
  static build(key: SigningKey, origin: string, size: number, eventFor: (i: number) => AuditEvent = (i) => syntheticEvent(i)): SyntheticLog {
    const log = new SyntheticLog(key, origin);
    for (let i = 0; i < size; i++) log.append(eventFor(i));
    return log;
  }

  get size(): number {
    return this.leaves.length;
  }

  append(event: AuditEvent): void {
    const index = this.leaves.length;
    const leaf = encodeLeaf(index, this.chainBefore(index), event);
    this.leaves.push(leaf);
    this.leafHashes.push(leafHash(leaf));
    this.chains.push(chainHash(leaf));
    this.ranges.push((this.ranges[index] as CompactRange).append(leafHash(leaf)));
  }

  chainBefore(index: number): Buffer {
    return index === 0 ? GENESIS_CHAIN_HASH : (this.chains[index - 1] as Buffer);
  }

  rangeAt(size: number): CompactRange {
    const range = this.ranges[size];
    if (range === undefined) throw new RangeError(`the log has no size ${size}`);
    return range;
  }

  rootAt(size: number): Buffer {
    return this.rangeAt(size).root();
  }

  /** The signed note of the tree of the first `size` leaves. */
  checkpointAt(size: number): string {
    return signCheckpoint({ origin: this.origin, size, root: this.rootAt(size) }, this.keyAt(size));
  }

  /** What GET /v1/audit/receipt answers for leaf `index` in the tree of `treeSize` leaves (default: all). */
  receipt(index: number, treeSize: number = this.size): ReceiptBody {
    const proof = inclusionRanges(index, treeSize).map((range) => rootFromLeafHashes(this.leafHashes.slice(range.start, range.end)));
    const eventId = JSON.parse((this.leaves[index] as Buffer).toString("utf8")).event.id as string;
    const checkpoint = { size: treeSize, root: this.rootAt(treeSize), note: this.checkpointAt(treeSize) };
    return receiptBody({ eventId, index, leaf: this.leaves[index] as Buffer, checkpoint, proof });
  }

  /** What GET /v1/audit/consistency answers for the trees of `oldSize` and `newSize` leaves. */
  consistency(oldSize: number, newSize: number = this.size): ConsistencyBody {
    return consistencyBody({
      old: { size: oldSize, note: this.checkpointAt(oldSize) },
      new: { size: newSize, note: this.checkpointAt(newSize) },
      hashes: consistencyProof(oldSize, this.leafHashes.slice(0, newSize)),
    });
  }

  /** The files of an export of [from, to), with consistency.json when `previousSize` is given. */
  async exportFiles(options: { from?: number; to?: number; previousSize?: number; createdAt?: string } = {}): Promise<ExportFiles> {
    const from = options.from ?? 0;
    const to = options.to ?? this.size;
    if (!(0 <= from && from <= to && to <= this.size)) throw new RangeError(`cannot export [${from}, ${to}) of a log of ${this.size}`);
    const files: ExportFiles = new Map();
    files.set(ENTRIES_FILE, Buffer.concat(this.leaves.slice(from, to).flatMap((leaf) => [leaf, Buffer.from("\n")])));
    const prefix = this.rangeAt(from);
    files.set(PREFIX_FILE, Buffer.from(formatPrefix({ size: from, hashes: prefix.hashes.map((h) => h.toString("base64")), chain: this.chainBefore(from).toString("hex") })));
    files.set(CHECKPOINT_FILE, Buffer.from(this.checkpointAt(to)));
    if (options.previousSize !== undefined) {
      const proof = consistencyProof(options.previousSize, this.leafHashes.slice(0, to));
      files.set(CONSISTENCY_FILE, Buffer.from(formatConsistency({ oldSize: options.previousSize, newSize: to, proof: proof.map((h) => h.toString("base64")) })));
    }
    return sealExport(files, this.keyAt(this.size), { origin: this.origin, from, to, ...(options.createdAt === undefined ? {} : { createdAt: options.createdAt }) });
  }
}

/** The manifest payload for `files` (every file but the manifest, with its SHA-256). */
export function manifestFor(files: ExportFiles, claims: { origin: string; from: number; to: number; createdAt?: string }): ExportManifest {
  const digests: Record<string, string> = {};
  for (const [name, bytes] of [...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (name !== MANIFEST_FILE) digests[name] = sha256(bytes).toString("hex");
  }
  return {
    format: EXPORT_FORMAT,
    origin: claims.origin,
    from: claims.from,
    to: claims.to,
    files: digests as ExportManifest["files"],
    createdAt: claims.createdAt ?? "2025-01-02T03:04:05.678Z",
  };
}

/** A compact JWS of `payload` (any JSON value) with jose, as the exporter signs manifests. */
export async function signManifest(payload: unknown, key: Pick<SigningKey, "name" | "privateKey">, header: Record<string, unknown> = {}): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: "EdDSA", kid: key.name, ...header })
    .sign(key.privateKey);
}

/** A copy of `files` with manifest.jws rewritten (digests of the files as they are now) and signed by `key`. */
export async function sealExport(
  files: ExportFiles,
  key: Pick<SigningKey, "name" | "privateKey">,
  claims: { origin: string; from: number; to: number; createdAt?: string },
): Promise<ExportFiles> {
  const sealed: ExportFiles = new Map([...files].filter(([name]) => name !== MANIFEST_FILE));
  sealed.set(MANIFEST_FILE, Buffer.from(await signManifest(manifestFor(sealed, claims), key)));
  return sealed;
}

/** Writes the files into `dir` (created if needed). */
export async function writeExportDir(dir: string, files: ExportFiles): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [name, bytes] of files) await writeFile(join(dir, name), bytes);
}

/** The lines of entries.jsonl (without their "\n"s). */
export function entryLines(files: ExportFiles): Buffer[] {
  const bytes = files.get(ENTRIES_FILE) ?? Buffer.alloc(0);
  const lines: Buffer[] = [];
  let start = 0;
  for (let nl = bytes.indexOf(0x0a); nl >= 0; nl = bytes.indexOf(0x0a, start)) {
    lines.push(bytes.subarray(start, nl));
    start = nl + 1;
  }
  return lines;
}

/** entries.jsonl from lines (each followed by "\n"). */
export function joinEntryLines(lines: readonly Uint8Array[]): Buffer {
  return Buffer.concat(lines.flatMap((line) => [line, Buffer.from("\n")]));
}
