/**
 * The audit export format "atomic-audit-export/1": file names, the manifest payload and the JSON shapes of the
 * small files. Shared by the exporter (src/audit/store/) and the offline verifier; see audit/FORMAT.md.
 *
 * This module must import nothing but node built-ins and src/audit/core: it is bundled into audit/verify.mjs.
 */

export const EXPORT_FORMAT = "atomic-audit-export/1";

export const ENTRIES_FILE = "entries.jsonl";
export const PREFIX_FILE = "prefix.json";
export const CHECKPOINT_FILE = "checkpoint";
export const CONSISTENCY_FILE = "consistency.json";
export const MANIFEST_FILE = "manifest.jws";

/** Files the manifest may list (every one but the manifest itself); the first three are required. */
export const REQUIRED_FILES = [ENTRIES_FILE, PREFIX_FILE, CHECKPOINT_FILE] as const;
export const LISTED_FILES = [ENTRIES_FILE, PREFIX_FILE, CHECKPOINT_FILE, CONSISTENCY_FILE] as const;
export type ListedFile = (typeof LISTED_FILES)[number];

/** The JWS protected header of manifest.jws: Ed25519 with the log's signing key, kid = the note key name. */
export interface ManifestHeader {
  alg: "EdDSA";
  kid: string;
  typ?: string;
}

/** The payload of manifest.jws (JSON). */
export interface ExportManifest {
  format: typeof EXPORT_FORMAT;
  /** The log's origin: the checkpoint's first line. */
  origin: string;
  /** First exported index (= prefix.json size). */
  from: number;
  /** One past the last exported index (= the checkpoint's size). */
  to: number;
  /** SHA-256 (lowercase hex) of each file's bytes. consistency.json is listed exactly when it is present. */
  files: Partial<Record<ListedFile, string>> & Record<(typeof REQUIRED_FILES)[number], string>;
  /** When the export was made (ISO 8601); informational. */
  createdAt: string;
}

/** prefix.json: what is needed to go on from leaf `from` without the leaves before it. */
export interface ExportPrefix {
  /** = from. */
  size: number;
  /** Base64 of the CompactRange hashes of the first `size` leaves, largest subtree first. */
  hashes: string[];
  /** Hex chain hash of leaf size-1; 64 zeros when size = 0. */
  chain: string;
}

/** consistency.json: an RFC 9162 consistency proof from an earlier checkpoint's tree to the exported one. */
export interface ExportConsistency {
  oldSize: number;
  /** = to. */
  newSize: number;
  /** Base64 of each proof hash, in RFC 9162 order. */
  proof: string[];
}

/** No leaf (line of entries.jsonl, without its "\n") may be longer: bounds the verifier's memory. */
export const MAX_LEAF_BYTES = 8 * 1024 * 1024;
/** Upper bound on the size of prefix.json, checkpoint, consistency.json and manifest.jws. */
export const MAX_SMALL_FILE_BYTES = 1024 * 1024;

/** The bytes of prefix.json as the exporter writes them (any JSON of this shape verifies). */
export function formatPrefix(prefix: ExportPrefix): string {
  return `${JSON.stringify({ size: prefix.size, hashes: prefix.hashes, chain: prefix.chain })}\n`;
}

/** The bytes of consistency.json as the exporter writes them (any JSON of this shape verifies). */
export function formatConsistency(consistency: ExportConsistency): string {
  return `${JSON.stringify({ oldSize: consistency.oldSize, newSize: consistency.newSize, proof: consistency.proof })}\n`;
}
