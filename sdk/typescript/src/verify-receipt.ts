// Atomic's own verifier, bundled into this package by build.mjs: one source of truth with audit/verify.mjs.
import { verifyReceipt as verifyAuditReceipt, type ReceiptFailureCode as AuditReceiptFailureCode } from "../../../src/audit/verify/receipt.js";
import { KeyRefused, KeyTerms } from "../../../src/audit/verify/key-terms.js";
import { NoteRefused, trustedKeys, verifySignedCheckpoint, type TrustedKey } from "../../../src/audit/verify/trusted-keys.js";
import { verifierKeys, type KeyIdentity, type TrustedKeys } from "./keys.js";

/** Why a receipt was refused: the first check that failed (audit/FORMAT.md §9). */
export type ReceiptFailureCode =
  | "key_invalid"
  | "receipt_invalid"
  | "entry_malformed"
  | "entry_not_canonical"
  | "entry_mismatch"
  | "leaf_hash_mismatch"
  | "checkpoint_invalid"
  | "tree_mismatch"
  | "inclusion_failed"
  | "checkpoint_signature"
  | "rotation_invalid"
  | "key_retired"
  | "key_unbounded"
  | "origin_mismatch"
  | "fork"
  | "checkpoint_mismatch";

// The codes are the verifier's: this fails to compile when they drift apart.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameCodes: Same<ReceiptFailureCode, AuditReceiptFailureCode> = true;
void sameCodes;

export type ReceiptVerification =
  | {
      ok: true;
      eventId: string;
      /** The event's kind, read from the verified leaf. */
      kind: string;
      index: number;
      origin: string;
      treeSize: number;
      /** Base64 root hash of the signed tree. */
      root: string;
      /** The key that signed the checkpoint. */
      key: KeyIdentity;
      /** Whether the tree is that of the checkpoint you gave (false when you gave none). */
      held: boolean;
    }
  | { ok: false; code: ReceiptFailureCode; reason: string };

export type CheckpointVerification =
  | { ok: true; origin: string; treeSize: number; root: string; key: KeyIdentity }
  | { ok: false; code: "key_invalid" | "checkpoint_invalid" | "checkpoint_signature" | "key_retired" | "key_unbounded"; reason: string };

/**
 * Verifies a receipt offline, without the network: its leaf (canonical, the event and index it claims), the leaf
 * hash, the inclusion proof from that leaf to the root of the receipt's checkpoint, that checkpoint's Ed25519
 * signature by a trusted key, and that the key may sign a tree of that size (after a rotation: a retired key signs no
 * tree past the `key.rotated` leaf that retired it, `key_retired`; at most one key given without a bound,
 * `key_unbounded`; a receipt of the `key.rotated` event itself bounds the key it retires, and its handover must
 * verify, `rotation_invalid`). Then, given `checkpoint` (a signed checkpoint you hold, e.g. one read with
 * `audit.checkpoint()` and checked with verifyCheckpoint()), that the receipt's tree is exactly that one: ask for the
 * receipt with its `treeSize`. With null, the receipt proves inclusion in a tree the log signed, not in one you hold.
 * Never throws: the verdict names the first check that failed and why.
 */
export function verifyReceipt(receipt: unknown, checkpoint: string | null, trustedKey: TrustedKeys): ReceiptVerification {
  if (checkpoint !== null && checkpoint !== undefined && typeof checkpoint !== "string") return { ok: false, code: "checkpoint_invalid", reason: "the checkpoint you hold is not text" };
  const given = verifierKeys(trustedKey);
  if ("invalid" in given) return { ok: false, code: "key_invalid", reason: given.invalid };
  const verdict = verifyAuditReceipt(receipt, { publicKeyJwk: given.jwks, retired: given.retired, ...(typeof checkpoint === "string" ? { heldCheckpoint: checkpoint } : {}) });
  if (!verdict.ok) return { ok: false, code: verdict.code, reason: inSdkWords(verdict.reason) };
  const { eventId, kind, index, origin, treeSize, root, key, held } = verdict;
  return { ok: true, eventId, kind, index, origin, treeSize, root, key: { ...key }, held };
}

/**
 * Verifies a signed checkpoint (GET /v1/audit/checkpoint) offline, and reads its tree: signed by a key given, which
 * may sign a tree of its size (a retired key's bound, at most one key without one, as verifyReceipt). Never throws.
 */
export function verifyCheckpoint(checkpoint: string, trustedKey: TrustedKeys): CheckpointVerification {
  const given = verifierKeys(trustedKey);
  if ("invalid" in given) return { ok: false, code: "key_invalid", reason: given.invalid };
  let keys: TrustedKey[];
  try {
    keys = trustedKeys(given.jwks, given.retired);
  } catch (error) {
    return { ok: false, code: "key_invalid", reason: (error as Error).message };
  }
  if (typeof checkpoint !== "string") return { ok: false, code: "checkpoint_invalid", reason: "the checkpoint is not text" };
  try {
    const { checkpoint: tree, key } = verifySignedCheckpoint(Buffer.from(checkpoint, "utf8"), keys, "the checkpoint");
    new KeyTerms(keys).check(tree.size, key, "the checkpoint");
    return { ok: true, origin: tree.origin, treeSize: tree.size, root: tree.root.toString("base64"), key: { ...key.identity } };
  } catch (error) {
    if (error instanceof NoteRefused || error instanceof KeyRefused) return { ok: false, code: error.code, reason: inSdkWords(error.message) };
    throw error;
  }
}

/** The verifier's reasons name its command line's options: here, what this SDK takes instead. */
function inSdkWords(reason: string): string {
  return reason
    .replace("give --retired KEYID@INDEX for each retired key (INDEX: the index of the key.rotated leaf that retired it)", "give each retired key as { key, retiredAt } (retiredAt: the index of the key.rotated leaf that retired it)")
    .replace(/\(--retired\)/g, "(retiredAt)")
    .replace("give it with --key", "give it too");
}
