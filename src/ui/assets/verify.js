/**
 * Checks, in the browser, what the audit log claims, trusting nothing the gateway says but the public keys it was
 * given: a signed checkpoint (C2SP signed note over a tlog checkpoint, Ed25519 via WebCrypto) and a receipt (an
 * RFC 6962 / 9162 inclusion proof of one leaf in that checkpoint's tree). The same hashing and the same order of
 * checks as the auditors' verifier (src/audit/verify/receipt.ts, src/audit/core/{checkpoint,merkle}.ts), so a
 * failure names the same code. Plain ECMAScript and WebCrypto: it runs in a page and under Node alike.
 *
 * WebCrypto exists only in a secure context: HTTPS, or the gateway on loopback.
 */

/** A check that failed: `code` as the auditors' verifier names it, `message` in words. */
export class VerifyError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

const SIGNATURE_PREFIX = "\u2014 ";
const DECIMAL = /^(0|[1-9][0-9]*)$/;
const STANDARD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const encoder = new TextEncoder();

function subtle() {
  const api = globalThis.crypto?.subtle;
  if (api === undefined) {
    throw new VerifyError("crypto_unavailable", "this page cannot use WebCrypto: browsers offer it only over HTTPS or on loopback (serve the gateway with server.tls)");
  }
  return api;
}

export async function sha256(bytes) {
  return new Uint8Array(await subtle().digest("SHA-256", bytes));
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

const equal = (a, b) => a.length === b.length && a.every((byte, i) => byte === b[i]);
export const toHex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

export function toBase64(bytes) {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** Strict standard base64 with padding, as the log writes it; undefined for anything else. */
export function fromBase64(text) {
  if (typeof text !== "string" || !STANDARD_BASE64.test(text)) return undefined;
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

function fromBase64Url(text) {
  if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  const padded = text.replace(/-/g, "+").replace(/_/g, "/");
  return Uint8Array.from(atob(padded + "=".repeat((4 - (padded.length % 4)) % 4)), (c) => c.charCodeAt(0));
}

/** RFC 6962 leaf hash: SHA-256(0x00 ‖ leaf). */
export const leafHash = (leaf) => sha256(concat(Uint8Array.of(0), leaf));
/** RFC 6962 node hash: SHA-256(0x01 ‖ left ‖ right). */
export const nodeHash = (left, right) => sha256(concat(Uint8Array.of(1), left, right));

/** RFC 9162 §2.1.3.2: whether `proof` leads from the leaf hash at `index` to `root` in a tree of `size` leaves. */
export async function verifyInclusion(index, size, leaf, proof, root) {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = fn / 2;
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equal(r, root);
}

/** RFC 9162 §2.1.4.2: whether `proof` shows the tree of `newSize` leaves extends the one of `oldSize`. */
export async function verifyConsistency(oldSize, newSize, oldRoot, newRoot, proof) {
  if (!(oldSize >= 0 && oldSize <= newSize)) return false;
  if (oldSize === newSize) return proof.length === 0 && equal(oldRoot, newRoot);
  if (oldSize === 0) return proof.length === 0 && equal(oldRoot, await sha256(new Uint8Array(0)));
  if (proof.length === 0) return false;
  const path = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : proof;
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (fn % 2 === 1) {
    fn = (fn - 1) / 2;
    sn = Math.floor(sn / 2);
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = await nodeHash(c, fr);
      sr = await nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = fn / 2;
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = await nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equal(fr, oldRoot) && equal(sr, newRoot);
}

function isPowerOfTwo(n) {
  while (n > 1 && n % 2 === 0) n /= 2;
  return n === 1;
}

/** A signed note's checkpoint and signature lines, unverified (checkpoint.ts's splitNote and parseCheckpointBody). */
export function parseCheckpoint(note) {
  const malformed = (why) => new VerifyError("checkpoint_invalid", `the checkpoint ${why}`);
  if (typeof note !== "string") throw malformed("is not text");
  const split = note.lastIndexOf("\n\n");
  if (split < 0) throw malformed("has no blank line before its signatures");
  const body = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  if (!block.endsWith("\n")) throw malformed("does not end with a newline");
  const signatures = block.slice(0, -1).split("\n").map((line) => {
    if (!line.startsWith(SIGNATURE_PREFIX)) throw malformed("has a signature line that does not start with \"\u2014 \"");
    const rest = line.slice(SIGNATURE_PREFIX.length);
    const space = rest.indexOf(" ");
    if (space <= 0) throw malformed("has a signature line without a key name");
    const bytes = fromBase64(rest.slice(space + 1));
    if (bytes === undefined || bytes.length < 5) throw malformed(`has a signature by ${JSON.stringify(rest.slice(0, space))} that is not base64 of key id and signature`);
    return { name: rest.slice(0, space), keyId: bytes.subarray(0, 4), signature: bytes.subarray(4) };
  });
  const lines = body.slice(0, -1).split("\n");
  if (lines.length !== 3) throw malformed(`has ${lines.length} lines, expected 3 (origin, size, root hash)`);
  const [origin, sizeText, rootText] = lines;
  if (origin.length === 0) throw malformed("origin is empty");
  if (!DECIMAL.test(sizeText) || !Number.isSafeInteger(Number(sizeText))) throw malformed(`size ${JSON.stringify(sizeText)} is not a decimal`);
  const root = fromBase64(rootText);
  if (root === undefined || root.length !== 32) throw malformed("root hash is not base64 of 32 bytes");
  return { origin, size: Number(sizeText), root, rootText, body, signatures };
}

/**
 * A log public key (JWK, kid = the note key name) ready to verify with, and how people name it. `retired`: the log
 * no longer signs with it; `retiredAt`, when known, is the index of the key.rotated leaf that retired it (it signs
 * trees of at most that many leaves). A key that is neither is taken for the log's current key.
 */
export async function trustedKey(jwk, { retired = false, retiredAt } = {}) {
  if (jwk === null || typeof jwk !== "object" || jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || typeof jwk.kid !== "string") {
    throw new VerifyError("key_invalid", "the log's public key is not an Ed25519 JWK with a kid");
  }
  if (retiredAt !== undefined && !(Number.isSafeInteger(retiredAt) && retiredAt >= 0)) {
    throw new VerifyError("key_invalid", `the index a key was retired at (${JSON.stringify(retiredAt)}) is not a leaf index`);
  }
  const raw = fromBase64Url(jwk.x);
  if (raw === undefined || raw.length !== 32) throw new VerifyError("key_invalid", "the log's public key: x is not the base64url of 32 bytes");
  let key;
  try {
    key = await subtle().importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]);
  } catch (error) {
    if (error instanceof VerifyError) throw error;
    throw new VerifyError("crypto_unavailable", `this browser's WebCrypto cannot verify Ed25519 (${error.message})`);
  }
  const keyId = (await sha256(concat(encoder.encode(jwk.kid), Uint8Array.of(0x0a, 0x01), raw))).subarray(0, 4);
  return { name: jwk.kid, key, keyId, keyIdHex: toHex(keyId), fingerprint: `sha256:${toHex(await sha256(raw))}`, retired: retired || retiredAt !== undefined, retiredAt };
}

/**
 * Throws VerifyError unless `signer` may sign a checkpoint of `size` leaves, by the auditors' verifier's rule
 * (src/audit/verify/key-terms.ts, audit/FORMAT.md §6): a retired key signs no tree past the key.rotated leaf that
 * retired it (`key_retired`); a retired key whose leaf is not known cannot be placed, and only one key may be taken
 * for the current one (`key_unbounded`).
 */
export function checkKeyInForce(size, signer, keys, what = "the checkpoint") {
  const named = `${what} of ${size} leaves is signed by key ${signer.name} (key id ${signer.keyIdHex})`;
  if (signer.retiredAt !== undefined) {
    if (size > signer.retiredAt) {
      throw new VerifyError("key_retired", `${named}, retired by the key.rotated leaf at index ${signer.retiredAt}: it signs trees of at most ${signer.retiredAt} leaves, and a later one is what a holder of the retired key would sign`);
    }
    return;
  }
  if (signer.retired) {
    throw new VerifyError("key_unbounded", `${named}, which the gateway lists as retired without the index of the key.rotated leaf that retired it: this page cannot tell whether it signed that tree before its rotation (verify it with audit/verify.mjs --retired KEYID@INDEX)`);
  }
  const current = new Set(keys.filter((key) => !key.retired).map((key) => key.fingerprint));
  if (current.size > 1) {
    throw new VerifyError("key_unbounded", `${named}, but ${current.size} keys are given as the log's current one, and only one can be: the others must be given as retired`);
  }
}

/**
 * The checkpoint, once one of `keys` (from trustedKey) is found to have signed it and may sign a tree of its size
 * (checkKeyInForce); throws VerifyError `checkpoint_invalid`, `checkpoint_signature`, `key_retired` or
 * `key_unbounded` otherwise, naming why.
 */
export async function verifyCheckpoint(note, keys) {
  const checkpoint = parseCheckpoint(note);
  const signed = encoder.encode(checkpoint.body);
  const failed = [];
  for (const trusted of keys) {
    for (const line of checkpoint.signatures) {
      if (line.name !== trusted.name || !equal(line.keyId, trusted.keyId)) continue;
      if (line.signature.length === 64 && (await subtle().verify({ name: "Ed25519" }, trusted.key, line.signature, signed))) {
        checkKeyInForce(checkpoint.size, trusted, keys);
        return { checkpoint, signer: trusted };
      }
      failed.push(trusted.name);
    }
  }
  if (failed.length > 0) throw new VerifyError("checkpoint_signature", `the signature by key ${JSON.stringify(failed[0])} does not verify: the checkpoint is not what that key signed`);
  const names = keys.map((k) => `${k.name} (id ${k.keyIdHex})`).join(", ");
  throw new VerifyError("checkpoint_signature", `the checkpoint carries no signature by the log's key ${names}`);
}

/** RFC 8785 canonical JSON as the log writes leaves (src/util/canonical-json.ts). */
function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    return `{${Object.keys(value).sort().map((key) => `${JSON.stringify(key)}:${canonical(value[key])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

const RECEIPT_FIELDS = ["object", "event_id", "index", "leaf", "leaf_hash", "chain_hash", "tree_size", "root", "checkpoint", "inclusion_proof"];

/**
 * A receipt (GET /v1/audit/receipt/:id?tree_size=N) checked against the signed checkpoint `held` (GET
 * /v1/audit/checkpoint, already verified with verifyCheckpoint): the entry is the event asked for, its leaf hash
 * recomputed, the inclusion proof leads to the root of exactly the held tree. Returns what was proved; throws
 * VerifyError naming the first check that failed.
 */
export async function verifyReceipt(receipt, held, eventId) {
  const invalid = (why) => new VerifyError("receipt_invalid", `the receipt ${why}`);
  if (receipt === null || typeof receipt !== "object" || Array.isArray(receipt)) throw invalid("is not a JSON object");
  for (const field of Object.keys(receipt)) if (!RECEIPT_FIELDS.includes(field)) throw invalid(`has an unexpected member ${JSON.stringify(field)}`);
  const { object, event_id, index, leaf, leaf_hash, chain_hash, tree_size, root, checkpoint, inclusion_proof } = receipt;
  if (object !== "audit.receipt") throw invalid(`object is ${JSON.stringify(object)}, not "audit.receipt"`);
  if (typeof event_id !== "string" || event_id !== eventId) throw invalid(`is for event ${JSON.stringify(event_id)}, not ${JSON.stringify(eventId)}`);
  if (!Number.isSafeInteger(index) || index < 0) throw invalid("index is not a non-negative integer");
  if (!Number.isSafeInteger(tree_size) || tree_size < 0) throw invalid("tree_size is not a non-negative integer");
  if (typeof leaf !== "string" || typeof leaf_hash !== "string" || typeof root !== "string" || typeof checkpoint !== "string") throw invalid("lacks leaf, leaf_hash, root or checkpoint text");
  if (!Array.isArray(inclusion_proof)) throw invalid("has no inclusion_proof list");
  const proof = inclusion_proof.map((hash, i) => {
    const bytes = fromBase64(hash);
    if (bytes === undefined || bytes.length !== 32) throw invalid(`inclusion_proof[${i}] is not base64 of 32 bytes`);
    return bytes;
  });

  // The entry: the leaf exactly as the log wrote it, and the one the receipt says it is.
  let decoded;
  try {
    decoded = JSON.parse(leaf);
  } catch {
    throw new VerifyError("entry_malformed", "the receipt's leaf is not JSON");
  }
  if (decoded === null || typeof decoded !== "object" || typeof decoded.event !== "object" || decoded.event === null) throw new VerifyError("entry_malformed", "the receipt's leaf holds no event");
  if (canonical(decoded) !== leaf) throw new VerifyError("entry_not_canonical", "the receipt's leaf is not in its canonical form (RFC 8785)");
  if (decoded.index !== index) throw new VerifyError("entry_mismatch", `the leaf holds index ${decoded.index}, the receipt says ${index}`);
  if (decoded.event.id !== event_id) throw new VerifyError("entry_mismatch", `the leaf holds event ${JSON.stringify(decoded.event.id)}, the receipt says ${JSON.stringify(event_id)}`);

  // The leaf hash, recomputed: the receipt's copies are only compared, never used.
  const leafBytes = encoder.encode(leaf);
  const computed = await leafHash(leafBytes);
  if (leaf_hash !== toBase64(computed)) throw new VerifyError("leaf_hash_mismatch", `leaf_hash is not SHA-256(0x00 ‖ leaf) = ${toBase64(computed)}`);
  if (chain_hash !== undefined && chain_hash !== toHex(await sha256(leafBytes))) throw new VerifyError("leaf_hash_mismatch", "chain_hash is not SHA-256(leaf)");

  // The tree: the receipt's copies of size and root are its checkpoint's, which is the held one, signed.
  const tree = parseCheckpoint(checkpoint);
  if (tree_size !== tree.size || root !== tree.rootText) throw new VerifyError("tree_mismatch", `tree_size and root (${tree_size}, ${root}) are not the checkpoint's (${tree.size}, ${tree.rootText})`);
  if (checkpoint !== held) throw new VerifyError("checkpoint_mismatch", `the receipt proves inclusion in a tree of ${tree.size} leaves whose checkpoint is not the signed one fetched`);
  if (index >= tree.size) throw new VerifyError("inclusion_failed", `index ${index} is outside the checkpoint's tree of ${tree.size} leaves`);
  if (!(await verifyInclusion(index, tree.size, computed, proof, tree.root))) {
    throw new VerifyError("inclusion_failed", `inclusion_proof does not lead from the leaf at index ${index} to the signed root of the tree of ${tree.size} leaves`);
  }
  return { eventId: event_id, kind: decoded.event.kind, index, treeSize: tree.size, root: tree.rootText, proofLength: proof.length };
}
