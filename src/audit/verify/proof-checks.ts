import type { Checkpoint } from "../core/checkpoint.js";
import { decodeStandardBase64 } from "../core/checkpoint.js";
import { KeyRefused, type KeyTerms } from "./key-terms.js";
import { NoteRefused, verifySignedCheckpoint, type TrustedKey } from "./trusted-keys.js";

/**
 * What the receipt and consistency verifiers share: reading their JSON, and comparing a proven tree with a checkpoint
 * the auditor already holds. Bundled into audit/verify.mjs: node built-ins and src/audit/core only.
 */

/** A refusal with its stable code; the verifiers turn it into their verdict. */
export class ProofFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A proof of a tree of at most 2^53 leaves has at most 53 hashes (inclusion) or 2·53 (consistency): anything longer
 * is refused before any hashing.
 */
export const MAX_PROOF_HASHES = 128;

/** Base64 hashes of a proof, each 32 bytes, in strict standard base64. */
export function proofHashes(value: unknown, name: string, invalid: (why: string) => Error): Buffer[] {
  if (!Array.isArray(value) || value.length > MAX_PROOF_HASHES) throw invalid(`${name} is not an array of at most ${MAX_PROOF_HASHES} hashes`);
  return value.map((hash, i) => {
    const bytes = typeof hash === "string" ? decodeStandardBase64(hash) : undefined;
    if (bytes === undefined || bytes.length !== 32) throw invalid(`${name}[${i}] is not base64 of 32 bytes`);
    return bytes;
  });
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function isIndex(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

/** How a proven tree can disagree with a checkpoint the auditor holds. */
export type HeldCheckpointFailureCode = "checkpoint_invalid" | "checkpoint_signature" | "key_retired" | "key_unbounded" | "origin_mismatch" | "fork" | "checkpoint_mismatch";

/** Throws ProofFailure unless `key` may sign a checkpoint of `size` leaves (key-terms.ts). */
export function checkKeyInForce(terms: KeyTerms, size: number, key: TrustedKey, what: string): void {
  try {
    terms.check(size, key, what);
  } catch (error) {
    if (error instanceof KeyRefused) throw new ProofFailure(error.code, error.message);
    throw error;
  }
}

/**
 * Checks that `tree` (already verified) is the tree of the checkpoint the auditor holds: signed by a key given that
 * may sign a tree of its size (`terms`), of the same log, the same size (else checkpoint_mismatch, with `otherSize`'s
 * advice) and the same root (else fork: the log signed two trees of one size, which an honest log never does).
 * Returns true, or throws ProofFailure.
 */
export function settleAgainstHeld(heldText: string, keys: readonly TrustedKey[], terms: KeyTerms, tree: Checkpoint, words: { otherSize(heldSize: number): string }): true {
  let held: Checkpoint;
  try {
    const signed = verifySignedCheckpoint(Buffer.from(heldText, "utf8"), keys, "the checkpoint you hold");
    held = signed.checkpoint;
    checkKeyInForce(terms, held.size, signed.key, "the checkpoint you hold");
  } catch (error) {
    if (error instanceof NoteRefused) throw new ProofFailure(error.code, error.message);
    throw error;
  }
  if (held.origin !== tree.origin) {
    throw new ProofFailure("origin_mismatch", `the checkpoint you hold is of log ${JSON.stringify(held.origin)}, the proof's of ${JSON.stringify(tree.origin)}`);
  }
  if (held.size !== tree.size) throw new ProofFailure("checkpoint_mismatch", words.otherSize(held.size));
  if (!held.root.equals(tree.root)) {
    throw new ProofFailure("fork", `the checkpoint you hold and the proof's both have ${held.size} leaves but different roots: the log signed two histories`);
  }
  return true;
}
