import type { Checkpoint } from "../core/checkpoint.js";
import type { KeyIdentity } from "../core/key-identity.js";
import { verifyConsistency } from "../core/merkle.js";
import { KeyTerms } from "./key-terms.js";
import { checkKeyInForce, isIndex, isObject, ProofFailure, proofHashes, settleAgainstHeld, type HeldCheckpointFailureCode } from "./proof-checks.js";
import { NoteRefused, distinctIdentities, trustedKeys, verifySignedCheckpoint, type TrustedKey } from "./trusted-keys.js";

/**
 * A consistency proof between two signed trees of the log, as GET /v1/audit/consistency answers it
 * (audit/FORMAT.md §10): that the tree of new_size leaves is the tree of old_size leaves with leaves appended, and
 * nothing before them changed. Its verifier needs the log's public key(s) and, to mean anything about the past,
 * the checkpoint the auditor kept from their previous audit.
 * Bundled into audit/verify.mjs: node built-ins and src/audit/core only.
 */
export interface ConsistencyBody {
  object: "audit.consistency";
  old_size: number;
  new_size: number;
  /** The signed checkpoints of both trees (FORMAT.md §4). */
  old_checkpoint: string;
  new_checkpoint: string;
  /** Base64 hashes of RFC 9162 PROOF(old_size, D[new_size]). */
  proof: string[];
}

export function consistencyBody(proof: { old: { size: number; note: string }; new: { size: number; note: string }; hashes: readonly Buffer[] }): ConsistencyBody {
  return {
    object: "audit.consistency",
    old_size: proof.old.size,
    new_size: proof.new.size,
    old_checkpoint: proof.old.note,
    new_checkpoint: proof.new.note,
    proof: proof.hashes.map((hash) => hash.toString("base64")),
  };
}

export type ConsistencyProofFailureCode =
  | "key_invalid"
  | "consistency_invalid"
  | "checkpoint_invalid"
  | "checkpoint_signature"
  | "tree_mismatch"
  | "rollback"
  | "consistency_failed"
  | HeldCheckpointFailureCode;

export type ConsistencyProofVerdict =
  | {
      ok: true;
      origin: string;
      oldSize: number;
      oldRoot: string;
      newSize: number;
      newRoot: string;
      /** The keys that signed the two checkpoints (two when the key was rotated in between). */
      keys: KeyIdentity[];
      /** Whether the old tree is a checkpoint the auditor held (options.previousCheckpoint), not the server's copy. */
      held: boolean;
    }
  | { ok: false; code: ConsistencyProofFailureCode; reason: string };

export interface ConsistencyProofOptions {
  publicKeyJwk: unknown;
  /** "KEY@INDEX" for each retired key among them: where it was retired (key-terms.ts). */
  retired?: readonly string[];
  /** The checkpoint the auditor kept: the proof must start from exactly that tree. */
  previousCheckpoint?: string;
}

const FIELDS = ["object", "old_size", "new_size", "old_checkpoint", "new_checkpoint", "proof"];

/**
 * Checks, naming the first that fails: the shape; both checkpoints signed by keys given, of one log, and the sizes
 * the body copies; each key may sign a tree of its checkpoint's size (key-terms.ts); when given, that the old tree is
 * the held checkpoint's; no rollback, no fork at equal sizes;
 * and the RFC 9162 proof from the old root (the held one) to the new. Never throws.
 */
export function verifyConsistencyProof(body: unknown, options: ConsistencyProofOptions): ConsistencyProofVerdict {
  try {
    return check(body, options);
  } catch (error) {
    if (error instanceof ProofFailure) return { ok: false, code: error.code as ConsistencyProofFailureCode, reason: error.message };
    throw error;
  }
}

function check(body: unknown, options: ConsistencyProofOptions): ConsistencyProofVerdict {
  const fail = (code: ConsistencyProofFailureCode, reason: string) => new ProofFailure(code, reason);
  let keys: TrustedKey[];
  try {
    keys = trustedKeys(options.publicKeyJwk, options.retired);
  } catch (error) {
    throw fail("key_invalid", (error as Error).message);
  }

  const invalid = (why: string) => fail("consistency_invalid", `the consistency proof ${why}`);
  if (!isObject(body)) throw invalid("is not a JSON object");
  for (const field of Object.keys(body)) if (!FIELDS.includes(field)) throw invalid(`has an unexpected member ${JSON.stringify(field)}`);
  for (const field of FIELDS) if (!Object.hasOwn(body, field)) throw invalid(`has no ${field}`);
  const { object, old_size: oldSize, new_size: newSize, old_checkpoint: oldNote, new_checkpoint: newNote, proof: proofText } = body;
  if (object !== "audit.consistency") throw invalid(`object is ${JSON.stringify(object)}, not "audit.consistency"`);
  if (!isIndex(oldSize) || !isIndex(newSize)) throw invalid("old_size and new_size are not non-negative safe integers");
  if (typeof oldNote !== "string" || typeof newNote !== "string") throw invalid("old_checkpoint and new_checkpoint are not strings");
  const proof = proofHashes(proofText, "proof", invalid);

  const signedBy = (note: string, what: string): { checkpoint: Checkpoint; key: TrustedKey } => {
    try {
      return verifySignedCheckpoint(Buffer.from(note, "utf8"), keys, what);
    } catch (error) {
      if (error instanceof NoteRefused) throw fail(error.code, error.message);
      throw error;
    }
  };
  const newer = signedBy(newNote, "the new checkpoint");
  const older = signedBy(oldNote, "the old checkpoint");
  if (older.checkpoint.size !== oldSize || newer.checkpoint.size !== newSize) {
    throw fail("tree_mismatch", `old_size and new_size (${oldSize}, ${newSize}) are not the checkpoints' sizes (${older.checkpoint.size}, ${newer.checkpoint.size})`);
  }
  if (older.checkpoint.origin !== newer.checkpoint.origin) {
    throw fail("origin_mismatch", `the old checkpoint is of log ${JSON.stringify(older.checkpoint.origin)}, the new one of ${JSON.stringify(newer.checkpoint.origin)}`);
  }

  // Each key at the size it signed: no leaf is seen here, so only the auditor's --retired bounds a retired key.
  const terms = new KeyTerms(keys);
  checkKeyInForce(terms, newer.checkpoint.size, newer.key, "the new checkpoint");
  checkKeyInForce(terms, older.checkpoint.size, older.key, "the old checkpoint");

  // The held checkpoint, when given, is the trusted start; the server's old checkpoint must be that very tree.
  const held = options.previousCheckpoint === undefined
    ? false
    : settleAgainstHeld(options.previousCheckpoint, keys, terms, older.checkpoint, {
        otherSize: (heldSize) =>
          `the proof starts at the tree of ${older.checkpoint.size} leaves, the checkpoint you hold is of ${heldSize}: ` +
          `ask for GET /v1/audit/consistency?from=${heldSize}`,
      });

  const from = older.checkpoint;
  const to = newer.checkpoint;
  if (from.size > to.size) throw fail("rollback", `the old checkpoint has ${from.size} leaves, the new one only ${to.size}: the log went back`);
  if (from.size === to.size && !from.root.equals(to.root)) {
    throw fail("fork", `both checkpoints have ${to.size} leaves but different roots: the log signed two histories`);
  }
  if (!verifyConsistency(from.size, to.size, from.root, to.root, proof)) {
    throw fail("consistency_failed", `the proof does not show that the tree of ${to.size} leaves extends the tree of ${from.size}`);
  }
  return {
    ok: true,
    origin: to.origin,
    oldSize: from.size,
    oldRoot: from.root.toString("base64"),
    newSize: to.size,
    newRoot: to.root.toString("base64"),
    keys: distinctIdentities([older.key, newer.key]),
    held,
  };
}
