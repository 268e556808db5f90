import { parseUnverifiedCheckpoint, CheckpointError, decodeStandardBase64, type Checkpoint } from "../core/checkpoint.js";
import { LeafError, chainHash, decodeLeaf } from "../core/entry.js";
import type { KeyIdentity } from "../core/key-identity.js";
import { leafHash, verifyInclusion } from "../core/merkle.js";
import { MAX_LEAF_BYTES } from "./export-format.js";
import { leafShapeProblem } from "./json-shape.js";
import { KeyTerms, type Retirement } from "./key-terms.js";
import { RotationInvalid, rotationOf, type RotationLeaf } from "./rotation-leaf.js";
import { NoteRefused, trustedKeys, verifySignedCheckpoint, type TrustedKey } from "./trusted-keys.js";
import { checkKeyInForce, isIndex, isObject, ProofFailure, proofHashes, settleAgainstHeld, type HeldCheckpointFailureCode } from "./proof-checks.js";

/**
 * A receipt: one leaf of the log with its RFC 9162 inclusion proof in a signed tree, as GET /v1/audit/receipt/:id
 * answers it and as an auditor keeps it (audit/FORMAT.md §9). Its verifier needs the log's public key(s) only.
 * Bundled into audit/verify.mjs: node built-ins and src/audit/core only.
 */
export interface ReceiptBody {
  object: "audit.receipt";
  event_id: string;
  /** The leaf's index in the log. */
  index: number;
  /** The leaf's bytes (canonical JSON, FORMAT.md §1) as text: its UTF-8 encoding is exactly what was hashed. */
  leaf: string;
  /** Base64 of the RFC 6962 leaf hash SHA-256(0x00 ‖ leaf): what the Merkle tree and the proof start from. */
  leaf_hash: string;
  /** Hex of the chain hash SHA-256(leaf), without the 0x00: what the next leaf's "prev" names. */
  chain_hash: string;
  /** The size and base64 root of the tree the proof is for: copies of the checkpoint's second and third lines. */
  tree_size: number;
  root: string;
  /** The signed checkpoint of that tree (FORMAT.md §4). */
  checkpoint: string;
  /** Base64 hashes of RFC 9162 PATH(index, D[tree_size]), bottom-up. */
  inclusion_proof: string[];
}

export function receiptBody(receipt: { eventId: string; index: number; leaf: Buffer; checkpoint: { size: number; root: Buffer; note: string }; proof: readonly Buffer[] }): ReceiptBody {
  return {
    object: "audit.receipt",
    event_id: receipt.eventId,
    index: receipt.index,
    leaf: receipt.leaf.toString("utf8"),
    leaf_hash: leafHash(receipt.leaf).toString("base64"),
    chain_hash: chainHash(receipt.leaf).toString("hex"),
    tree_size: receipt.checkpoint.size,
    root: receipt.checkpoint.root.toString("base64"),
    checkpoint: receipt.checkpoint.note,
    inclusion_proof: receipt.proof.map((hash) => hash.toString("base64")),
  };
}

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
  | HeldCheckpointFailureCode;

export type ReceiptVerdict =
  | {
      ok: true;
      eventId: string;
      kind: string;
      index: number;
      origin: string;
      treeSize: number;
      root: string;
      /** The key that signed the checkpoint, as named out of band. */
      key: KeyIdentity;
      /** Whether the tree is the one of a checkpoint the auditor already held (options.heldCheckpoint). */
      held: boolean;
      /** When the leaf is a key.rotated one retiring a key given: that key, and the leaf's index (its bound). */
      retirements?: Retirement[];
    }
  | { ok: false; code: ReceiptFailureCode; reason: string };

export interface ReceiptOptions {
  /** The log's public key(s) as JWKs (several after a rotation). */
  publicKeyJwk: unknown;
  /** "KEY@INDEX" for each retired key among them: where it was retired (key-terms.ts). */
  retired?: readonly string[];
  /** A signed checkpoint the auditor already holds: the receipt must prove inclusion in exactly that tree. */
  heldCheckpoint?: string;
}

const RECEIPT_FIELDS = ["object", "event_id", "index", "leaf", "leaf_hash", "chain_hash", "tree_size", "root", "checkpoint", "inclusion_proof"];
/** Receipts fetched before chain_hash was added verify all the same. */
const OPTIONAL_FIELDS = ["chain_hash"];

/**
 * Checks, in this order, naming the first that fails: the receipt's shape; the entry (a canonical leaf whose index
 * and event id are the receipt's); the leaf hash (recomputed, and the receipt's copies of it); the inclusion proof
 * (from the recomputed leaf hash to the root of the checkpoint's text, which tree_size and root must copy); the
 * checkpoint's signature by a key given; that key may sign a tree of that size (key-terms.ts: the leaf, when it is a
 * key.rotated one, counts); and, when given, that the tree is the held checkpoint's. Never throws.
 */
export function verifyReceipt(receipt: unknown, options: ReceiptOptions): ReceiptVerdict {
  try {
    return check(receipt, options);
  } catch (error) {
    if (error instanceof ProofFailure) return { ok: false, code: error.code as ReceiptFailureCode, reason: error.message };
    throw error;
  }
}

function check(receipt: unknown, options: ReceiptOptions): ReceiptVerdict {
  const fail = (code: ReceiptFailureCode, reason: string) => new ProofFailure(code, reason);
  let keys: TrustedKey[];
  try {
    keys = trustedKeys(options.publicKeyJwk, options.retired);
  } catch (error) {
    throw fail("key_invalid", (error as Error).message);
  }

  // 1. The shape: exactly the members of FORMAT.md §9.
  const invalid = (why: string) => fail("receipt_invalid", `the receipt ${why}`);
  if (!isObject(receipt)) throw invalid("is not a JSON object");
  for (const field of Object.keys(receipt)) if (!RECEIPT_FIELDS.includes(field)) throw invalid(`has an unexpected member ${JSON.stringify(field)}`);
  for (const field of RECEIPT_FIELDS) if (!OPTIONAL_FIELDS.includes(field) && !Object.hasOwn(receipt, field)) throw invalid(`has no ${field}`);
  const { object, event_id: eventId, index, leaf, leaf_hash: claimedLeafHash, chain_hash: claimedChainHash, tree_size: treeSize, root, checkpoint, inclusion_proof: proofText } = receipt;
  if (object !== "audit.receipt") throw invalid(`object is ${JSON.stringify(object)}, not "audit.receipt"`);
  if (typeof eventId !== "string" || eventId.length === 0) throw invalid("event_id is not a non-empty string");
  if (!isIndex(index)) throw invalid("index is not a non-negative safe integer");
  if (typeof leaf !== "string") throw invalid("leaf is not a string");
  if (typeof claimedLeafHash !== "string") throw invalid("leaf_hash is not a string");
  if (claimedChainHash !== undefined && typeof claimedChainHash !== "string") throw invalid("chain_hash is not a string");
  if (!isIndex(treeSize)) throw invalid("tree_size is not a non-negative safe integer");
  if (typeof root !== "string") throw invalid("root is not a string");
  if (typeof checkpoint !== "string") throw invalid("checkpoint is not a string");
  const proof = proofHashes(proofText, "inclusion_proof", invalid);

  // 2. The entry: the leaf exactly as the log wrote it, and the one the receipt says it is.
  const leafBytes = Buffer.from(leaf, "utf8");
  if (leafBytes.length > MAX_LEAF_BYTES) throw fail("entry_malformed", `the receipt's leaf is longer than ${MAX_LEAF_BYTES} bytes`);
  const costly = leafShapeProblem(leafBytes);
  if (costly !== undefined) throw fail("entry_malformed", `the receipt's leaf ${costly}`);
  let decoded;
  try {
    decoded = decodeLeaf(leafBytes);
  } catch (error) {
    if (!(error instanceof LeafError)) throw error;
    throw fail(error.code === "not_canonical" ? "entry_not_canonical" : "entry_malformed", `the receipt's leaf: ${error.message}`);
  }
  if (decoded.index !== index) throw fail("entry_mismatch", `the leaf holds index ${decoded.index}, the receipt says ${index}`);
  if (decoded.event.id !== eventId) throw fail("entry_mismatch", `the leaf holds event ${JSON.stringify(decoded.event.id)}, the receipt says ${JSON.stringify(eventId)}`);

  // 3. The leaf hash, recomputed: the receipt's own copies are never used for anything but this comparison.
  const computedLeafHash = leafHash(leafBytes);
  if (decodeStandardBase64(claimedLeafHash)?.equals(computedLeafHash) !== true) {
    throw fail("leaf_hash_mismatch", `leaf_hash is not the base64 of SHA-256(0x00 ‖ leaf) = ${computedLeafHash.toString("base64")}`);
  }
  if (claimedChainHash !== undefined && claimedChainHash !== chainHash(leafBytes).toString("hex")) {
    throw fail("leaf_hash_mismatch", `chain_hash is not the hex of SHA-256(leaf) = ${chainHash(leafBytes).toString("hex")}`);
  }

  // 4. The inclusion proof, against the tree the checkpoint's text names (its signature is checked next).
  let tree: Checkpoint;
  try {
    tree = parseUnverifiedCheckpoint(checkpoint);
  } catch (error) {
    if (!(error instanceof CheckpointError)) throw error;
    throw fail("checkpoint_invalid", `the receipt's checkpoint: ${error.message}`);
  }
  if (treeSize !== tree.size || root !== tree.root.toString("base64")) {
    throw fail("tree_mismatch", `tree_size and root (${treeSize}, ${root}) are not the checkpoint's (${tree.size}, ${tree.root.toString("base64")})`);
  }
  if (index >= tree.size) throw fail("inclusion_failed", `index ${index} is outside the checkpoint's tree of ${tree.size} leaves`);
  if (!verifyInclusion(index, tree.size, computedLeafHash, proof, tree.root)) {
    throw fail("inclusion_failed", `inclusion_proof does not lead from the leaf at index ${index} to the root of the tree of ${tree.size} leaves`);
  }

  // 5. The checkpoint is the log's: signed by a key the auditor trusts.
  let signed: { checkpoint: Checkpoint; key: TrustedKey };
  try {
    signed = verifySignedCheckpoint(Buffer.from(checkpoint, "utf8"), keys, "the receipt's checkpoint");
  } catch (error) {
    if (error instanceof NoteRefused) throw fail(error.code, error.message);
    throw error;
  }

  // 6. The key at the size it signed: a retired key signs no tree past its rotation (key-terms.ts). The leaf is
  // the one leaf verified here: when it is itself a rotation, it bounds the key it retires.
  let rotation: RotationLeaf | undefined;
  try {
    rotation = rotationOf(decoded.event, index, signed.checkpoint.origin);
  } catch (error) {
    if (!(error instanceof RotationInvalid)) throw error;
    throw fail("rotation_invalid", `the receipt's leaf ${error.message}`);
  }
  const terms = new KeyTerms(keys, { rotations: rotation === undefined ? [] : [rotation] });
  checkKeyInForce(terms, signed.checkpoint.size, signed.key, "the receipt's checkpoint");

  // 7. The tree the auditor holds, if any: the receipt must be for exactly that one.
  const held = options.heldCheckpoint === undefined
    ? false
    : settleAgainstHeld(options.heldCheckpoint, keys, terms, signed.checkpoint, {
        otherSize: (heldSize) =>
          `the receipt proves inclusion in the tree of ${signed.checkpoint.size} leaves, the checkpoint you hold is of ${heldSize}: ` +
          `ask for GET /v1/audit/receipt/${eventId}?tree_size=${heldSize}`,
      });
  const retirements = terms.retirements();
  return {
    ok: true,
    eventId,
    kind: decoded.event.kind,
    index,
    origin: signed.checkpoint.origin,
    treeSize: signed.checkpoint.size,
    root: signed.checkpoint.root.toString("base64"),
    key: signed.key.identity,
    held,
    ...(retirements.length === 0 ? {} : { retirements }),
  };
}
