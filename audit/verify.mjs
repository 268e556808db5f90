#!/usr/bin/env node

// src/audit/verify/cli.ts
import { isMainThread as isMainThread2 } from "node:worker_threads";

// src/audit/verify/cli-main.ts
import { open as open2, stat as stat2 } from "node:fs/promises";
import { parseArgs } from "node:util";

// src/audit/core/checkpoint.ts
import { sign, verify } from "node:crypto";

// src/audit/core/sha256.ts
import * as nodeCrypto from "node:crypto";
var oneShot = nodeCrypto.hash;
var sha256 = typeof oneShot === "function" ? (data) => oneShot("sha256", data, "buffer") : (data) => nodeCrypto.createHash("sha256").update(data).digest();

// src/audit/core/checkpoint.ts
var CheckpointError = class extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
  code;
  name = "CheckpointError";
};
var ED25519_ALGORITHM = 1;
var SIGNATURE_PREFIX = "\u2014 ";
var MAX_SIGNATURES = 100;
var DECIMAL = /^(0|[1-9][0-9]*)$/;
var STANDARD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
function verifyCheckpoint(note, verifier) {
  if (typeof note !== "string") throw new CheckpointError("malformed", "signed note is not text");
  const { body, signatures } = splitNote(note);
  const checkpoint = parseCheckpointBody(body);
  const keyId = noteKeyId(verifier.name, verifier.publicKey);
  const signed = Buffer.from(body, "utf8");
  let candidates = 0;
  for (const line of signatures) {
    if (line.name !== verifier.name || !line.keyId.equals(keyId)) continue;
    candidates += 1;
    if (line.signature.length === 64 && verify(null, signed, verifier.publicKey, line.signature)) return checkpoint;
  }
  if (candidates === 0) {
    throw new CheckpointError("unknown_key", `no signature by key ${JSON.stringify(verifier.name)} (id ${keyId.toString("hex")})`);
  }
  throw new CheckpointError("bad_signature", `the signature by key ${JSON.stringify(verifier.name)} does not verify`);
}
function parseUnverifiedCheckpoint(note) {
  return parseCheckpointBody(splitNote(note).body);
}
function noteKeyId(name, publicKey) {
  checkKeyName(name);
  const raw = rawEd25519PublicKey(publicKey);
  return sha256(Buffer.concat([Buffer.from(name, "utf8"), Buffer.of(10, ED25519_ALGORITHM), raw])).subarray(0, 4);
}
function rawEd25519PublicKey(key) {
  if (key.asymmetricKeyType !== "ed25519") throw new TypeError(`expected an Ed25519 key, got ${key.asymmetricKeyType ?? key.type}`);
  const jwk = key.export({ format: "jwk" });
  const x = typeof jwk.x === "string" ? Buffer.from(jwk.x, "base64url") : Buffer.alloc(0);
  if (x.length !== 32) throw new TypeError("Ed25519 public key is not 32 bytes");
  return x;
}
function checkKeyName(name) {
  if (typeof name !== "string" || !/^[\x21-\x2a\x2c-\x7e]+$/.test(name)) {
    throw new TypeError(`${JSON.stringify(name)} is not a valid note key name (printable ASCII, no spaces, no "+")`);
  }
}
function splitNote(note) {
  const split = note.lastIndexOf("\n\n");
  if (split < 0) throw new CheckpointError("malformed", "signed note has no blank line before its signatures");
  const body = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  if (!block.endsWith("\n")) throw new CheckpointError("malformed", "signed note does not end with a newline");
  const lines = block.slice(0, -1).split("\n");
  if (lines.length > MAX_SIGNATURES) throw new CheckpointError("malformed", `signed note has more than ${MAX_SIGNATURES} signatures`);
  const signatures = [];
  for (const line of lines) {
    if (!line.startsWith(SIGNATURE_PREFIX)) throw new CheckpointError("malformed", 'signature line does not start with "\u2014 "');
    const rest = line.slice(SIGNATURE_PREFIX.length);
    const space = rest.indexOf(" ");
    if (space <= 0) throw new CheckpointError("malformed", "signature line has no key name");
    const name = rest.slice(0, space);
    const encoded = rest.slice(space + 1);
    try {
      checkKeyName(name);
    } catch {
      throw new CheckpointError("malformed", `signature line has an invalid key name ${JSON.stringify(name)}`);
    }
    const bytes = decodeStandardBase64(encoded);
    if (bytes === void 0 || bytes.length < 5) throw new CheckpointError("malformed", `signature by ${JSON.stringify(name)} is not base64 of key id and signature`);
    signatures.push({ name, keyId: bytes.subarray(0, 4), signature: bytes.subarray(4) });
  }
  return { body, signatures };
}
function parseCheckpointBody(body) {
  if (!isWellFormed(body)) throw new CheckpointError("malformed", "checkpoint is not well-formed Unicode");
  const lines = body.slice(0, -1).split("\n");
  if (lines.length !== 3) {
    throw new CheckpointError("malformed", `checkpoint has ${lines.length} lines, expected 3 (origin, size, root hash)`);
  }
  const [origin, sizeText, rootText] = lines;
  const originProblem = lineProblem(origin);
  if (originProblem !== void 0) throw new CheckpointError("malformed", `checkpoint origin ${originProblem}`);
  if (!DECIMAL.test(sizeText)) throw new CheckpointError("malformed", `checkpoint size ${JSON.stringify(sizeText)} is not a decimal without leading zeros`);
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) throw new CheckpointError("malformed", `checkpoint size ${sizeText} is beyond 2^53 - 1`);
  const root = decodeStandardBase64(rootText);
  if (root === void 0 || root.length !== 32) throw new CheckpointError("malformed", "checkpoint root hash is not base64 of 32 bytes");
  return { origin, size, root };
}
function decodeStandardBase64(text) {
  if (!STANDARD_BASE64.test(text)) return void 0;
  const bytes = Buffer.from(text, "base64");
  return bytes.toString("base64") === text ? bytes : void 0;
}
function lineProblem(text) {
  if (typeof text !== "string" || text.length === 0) return "is empty";
  if (new RegExp("\\p{Cc}", "u").test(text)) return "holds a control character";
  if (!isWellFormed(text)) return "is not well-formed Unicode";
  return void 0;
}
function isWellFormed(text) {
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
}

// src/audit/core/key-identity.ts
function keyIdentity(name, publicKey) {
  return {
    name,
    keyId: noteKeyId(name, publicKey).toString("hex"),
    fingerprint: `sha256:${sha256(rawEd25519PublicKey(publicKey)).toString("hex")}`
  };
}
function describeKey(identity) {
  return `${identity.name} id ${identity.keyId} ${identity.fingerprint}`;
}

// src/audit/core/merkle.ts
var HASH_SIZE = 32;
var EMPTY_TREE_ROOT = sha256(new Uint8Array(0));
var LEAF_PREFIX = Buffer.of(0);
var NODE_PREFIX = 1;
function leafHash(leaf) {
  return sha256(Buffer.concat([LEAF_PREFIX, leaf]));
}
function nodeHash(left, right) {
  if (left.length !== HASH_SIZE || right.length !== HASH_SIZE) {
    throw new RangeError(`Merkle node hash: children must be ${HASH_SIZE} bytes, got ${left.length} and ${right.length}`);
  }
  const input = Buffer.allocUnsafe(1 + 2 * HASH_SIZE);
  input[0] = NODE_PREFIX;
  input.set(left, 1);
  input.set(right, 1 + HASH_SIZE);
  return sha256(input);
}
var CompactRange = class _CompactRange {
  constructor(size, hashes) {
    this.size = size;
    this.hashes = hashes;
  }
  size;
  hashes;
  static empty() {
    return new _CompactRange(0, Object.freeze([]));
  }
  /** Refuses hashes whose count does not match the set bits of size. */
  static from(size, hashes) {
    if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`compact range: size ${size} is not a non-negative safe integer`);
    const expected = popCount(size);
    if (hashes.length !== expected) {
      throw new RangeError(`compact range: a tree of ${size} leaves has ${expected} perfect subtrees, got ${hashes.length} hashes`);
    }
    for (const hash2 of hashes) checkHash(hash2, "compact range hash");
    return new _CompactRange(size, Object.freeze(hashes.map((hash2) => Buffer.from(hash2))));
  }
  /** The compact range of a whole list of leaf hashes (convenience for tests and fixtures). */
  static fromLeafHashes(leafHashes) {
    const builder = new CompactRangeBuilder();
    for (const hash2 of leafHashes) builder.append(hash2);
    return builder.toRange();
  }
  /**
   * A new range with one more leaf (does not mutate this one). `onSubtree`, if given, hears of every complete
   * subtree that the new leaf completes, smallest first: the leaf itself (level 0), then each merge with the
   * right edge, as (level, index, hash) for the subtree of leaves [index·2^level, (index+1)·2^level). The
   * sequencer stores some of them (see proof-plan.ts) without reading any leaf back.
   */
  append(leafHash2, onSubtree) {
    checkHash(leafHash2, "leaf hash");
    if (this.size >= Number.MAX_SAFE_INTEGER) throw new RangeError("compact range: size would exceed 2^53 - 1");
    const hashes = this.hashes.slice();
    let hash2 = Buffer.from(leafHash2);
    let level = 0;
    let index = this.size;
    onSubtree?.(level, index, hash2);
    for (; index % 2 === 1; index = (index - 1) / 2) {
      hash2 = nodeHash(hashes.pop(), hash2);
      level += 1;
      onSubtree?.(level, (index - 1) / 2, hash2);
    }
    hashes.push(hash2);
    return new _CompactRange(this.size + 1, Object.freeze(hashes));
  }
  root() {
    return foldRoot(this.hashes);
  }
};
var CompactRangeBuilder = class {
  hashes;
  count;
  constructor(start = CompactRange.empty()) {
    this.hashes = start.hashes.slice();
    this.count = start.size;
  }
  get size() {
    return this.count;
  }
  append(leafHash2) {
    if (leafHash2.length !== HASH_SIZE) throw new RangeError(`leaf hash must be ${HASH_SIZE} bytes, got ${leafHash2.length}`);
    if (this.count >= Number.MAX_SAFE_INTEGER) throw new RangeError("compact range: size would exceed 2^53 - 1");
    let hash2 = leafHash2;
    for (let size = this.count; size % 2 === 1; size = (size - 1) / 2) {
      hash2 = nodeHash(this.hashes.pop(), hash2);
    }
    this.hashes.push(hash2);
    this.count += 1;
  }
  root() {
    return foldRoot(this.hashes);
  }
  toRange() {
    return CompactRange.from(this.count, this.hashes);
  }
};
function verifyInclusion(index, size, leaf, proof, root) {
  try {
    if (!isSize(index) || !isSize(size) || index >= size) return false;
    if (!isHash(leaf) || !isHash(root) || !proof.every(isHash)) return false;
    let fn = index;
    let sn = size - 1;
    let r = asBuffer(leaf);
    for (const p of proof) {
      if (sn === 0) return false;
      if (fn % 2 === 1 || fn === sn) {
        r = nodeHash(p, r);
        if (fn % 2 === 0) {
          while (fn % 2 === 0 && fn !== 0) {
            fn = fn / 2;
            sn = Math.floor(sn / 2);
          }
        }
      } else {
        r = nodeHash(r, p);
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    return sn === 0 && r.equals(asBuffer(root));
  } catch {
    return false;
  }
}
function verifyConsistency(oldSize, newSize, oldRoot, newRoot, proof) {
  try {
    if (!isSize(oldSize) || !isSize(newSize) || oldSize > newSize) return false;
    if (!isHash(oldRoot) || !isHash(newRoot) || !proof.every(isHash)) return false;
    if (oldSize === newSize) return proof.length === 0 && asBuffer(oldRoot).equals(newRoot);
    if (oldSize === 0) return proof.length === 0 && asBuffer(oldRoot).equals(EMPTY_TREE_ROOT);
    if (proof.length === 0) return false;
    const path = (isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : proof).map(asBuffer);
    let fn = oldSize - 1;
    let sn = newSize - 1;
    while (fn % 2 === 1) {
      fn = (fn - 1) / 2;
      sn = Math.floor(sn / 2);
    }
    let fr = path[0];
    let sr = path[0];
    for (let i = 1; i < path.length; i++) {
      const c = path[i];
      if (sn === 0) return false;
      if (fn % 2 === 1 || fn === sn) {
        fr = nodeHash(c, fr);
        sr = nodeHash(c, sr);
        if (fn % 2 === 0) {
          while (fn % 2 === 0 && fn !== 0) {
            fn = fn / 2;
            sn = Math.floor(sn / 2);
          }
        }
      } else {
        sr = nodeHash(sr, c);
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    return sn === 0 && fr.equals(oldRoot) && sr.equals(newRoot);
  } catch {
    return false;
  }
}
function popCount(n) {
  let count = 0;
  for (let rest = n; rest > 0; rest = Math.floor(rest / 2)) count += rest % 2;
  return count;
}
function foldRoot(hashes) {
  if (hashes.length === 0) return Buffer.from(EMPTY_TREE_ROOT);
  let root = hashes[hashes.length - 1];
  for (let i = hashes.length - 2; i >= 0; i--) root = nodeHash(hashes[i], root);
  return Buffer.from(root);
}
function asBuffer(bytes) {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
function isPowerOfTwo(n) {
  return n > 0 && popCount(n) === 1;
}
function isSize(n) {
  return Number.isSafeInteger(n) && n >= 0;
}
function isHash(value) {
  return value instanceof Uint8Array && value.length === HASH_SIZE;
}
function checkHash(value, what) {
  if (!isHash(value)) {
    throw new RangeError(`${what} must be a ${HASH_SIZE}-byte Buffer`);
  }
}

// src/audit/verify/rotation-leaf.ts
import { createPublicKey } from "node:crypto";

// src/audit/core/handover.ts
import { sign as sign2, verify as verify2 } from "node:crypto";
function handoverText(origin, nextKeyX) {
  return `atomic audit key rotation
${origin}
${nextKeyX}
`;
}
function verifyHandover(origin, nextKeyX, handover, previousPublicKey) {
  const signature = decodeStandardBase64(handover);
  if (signature === void 0 || signature.length !== 64) return false;
  return verify2(null, Buffer.from(handoverText(origin, nextKeyX), "utf8"), previousPublicKey, signature);
}

// src/audit/verify/rotation-leaf.ts
var ROTATION_KIND = "key.rotated";
var MAX_ROTATIONS = 1e4;
var RotationInvalid = class extends Error {
};
var RAW_KEY = /^[A-Za-z0-9_-]{43}$/;
function rotationOf(event, index, origin) {
  if (event.kind !== ROTATION_KIND) return void 0;
  const detail = event.detail;
  if (typeof detail !== "object" || detail === null || Array.isArray(detail)) throw new RotationInvalid("is a key.rotated leaf without a detail object");
  const { previousKey, nextKey, handover } = detail;
  if (!isRawKey(previousKey) || !isRawKey(nextKey)) {
    throw new RotationInvalid("is a key.rotated leaf whose detail.previousKey or detail.nextKey is not the base64url of a 32-byte Ed25519 key");
  }
  const retiring = publicKeyOf(previousKey);
  if (typeof handover !== "string" || retiring === void 0 || !verifyHandover(origin, nextKey, handover, retiring)) {
    throw new RotationInvalid(`is a key.rotated leaf whose handover is not a signature by the key it retires (${fingerprintOf(previousKey)}) over the next key`);
  }
  return { index, previousKey, nextKey };
}
var RotationChain = class {
  last;
  count = 0;
  /** Takes the next rotation; returns why it cannot follow the ones before (reads after "the leaf"), or undefined. */
  follow(rotation) {
    if (this.count >= MAX_ROTATIONS) return `is key.rotated leaf number ${this.count + 1}: more than ${MAX_ROTATIONS} rotations is no log's history`;
    if (this.last !== void 0 && rotation.previousKey !== this.last.nextKey) {
      return `retires key ${fingerprintOf(rotation.previousKey)}, but the key.rotated leaf at index ${this.last.index} handed the log to ${fingerprintOf(this.last.nextKey)}`;
    }
    this.last = rotation;
    this.count += 1;
    return void 0;
  }
};
function fingerprintOf(x) {
  return `sha256:${sha256(Buffer.from(x, "base64url")).toString("hex")}`;
}
function isRawKey(value) {
  return typeof value === "string" && RAW_KEY.test(value) && Buffer.from(value, "base64url").toString("base64url") === value;
}
function publicKeyOf(x) {
  try {
    return createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x }, format: "jwk" });
  } catch {
    return void 0;
  }
}

// src/audit/verify/key-terms.ts
var KeyRefused = class extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
  code;
};
var KeyTerms = class {
  constructor(keys, leaves) {
    this.keys = keys;
    this.leaves = leaves;
  }
  keys;
  leaves;
  /** Throws KeyRefused unless `signer` may sign a checkpoint of `size` leaves; `what` names it ("the checkpoint"). */
  check(size, signer, what) {
    const named = `${what} of ${size} leaves is signed by key ${describeKey(signer.identity)}`;
    const bound = this.boundOf(signer);
    if (bound !== void 0 && size > bound.index) {
      const by = bound.by === "log" ? `the key.rotated leaf at index ${bound.index} retired it` : `you gave it as retired at leaf ${bound.index} (--retired)`;
      throw new KeyRefused("key_retired", `${named}, but ${by}: it signs trees of at most ${bound.index} leaves, and a later one is what a holder of the retired key would sign`);
    }
    const last = this.leaves?.rotations.at(-1);
    if (last !== void 0 && !this.keys.some((key) => key.x === last.nextKey)) {
      throw new KeyRefused(
        "key_unbounded",
        `${named}, but the key.rotated leaf at index ${last.index} hands the log to key ${fingerprintOf(last.nextKey)}, which is not among the keys given: give it with --key (it is the current key, or retired by a later leaf)`
      );
    }
    if (bound !== void 0) return;
    const unbounded = /* @__PURE__ */ new Map();
    for (const key of this.keys) if (this.boundOf(key) === void 0) unbounded.set(key.x, key);
    if (unbounded.size > 1) {
      const ids = [...unbounded.values()].map((key) => key.identity.keyId).join(", ");
      throw new KeyRefused(
        "key_unbounded",
        `${named}, but keys ${ids} are given without a bound and only one of them can be the log's current key: give --retired KEYID@INDEX for each retired key (INDEX: the index of the key.rotated leaf that retired it)`
      );
    }
  }
  /** The given keys the verified leaves retire, in the order of the leaves. */
  retirements() {
    const found = [];
    for (const rotation of this.leaves?.rotations ?? []) {
      const key = this.keys.find((candidate) => candidate.x === rotation.previousKey);
      if (key !== void 0 && !found.some((known) => known.key.fingerprint === key.identity.fingerprint)) found.push({ key: key.identity, index: rotation.index });
    }
    return found;
  }
  /** The smaller of the auditor's bound and the first verified leaf that retires the key. */
  boundOf(key) {
    const retiring = this.leaves?.rotations.find((rotation) => rotation.previousKey === key.x);
    if (retiring !== void 0 && (key.retiredAt === void 0 || retiring.index <= key.retiredAt)) return { index: retiring.index, by: "log" };
    return key.retiredAt === void 0 ? void 0 : { index: key.retiredAt, by: "auditor" };
  }
};

// src/audit/verify/trusted-keys.ts
import { isUtf8 } from "node:buffer";

// src/audit/core/keys.ts
import { createPrivateKey, createPublicKey as createPublicKey2, generateKeyPairSync } from "node:crypto";
var BASE64URL = /^[A-Za-z0-9_-]*$/;
function publicKeyFromJwk(jwk) {
  if (typeof jwk !== "object" || jwk === null || Array.isArray(jwk)) throw new TypeError("public key: not a JWK object");
  const fields = jwk;
  if (Object.hasOwn(fields, "d")) throw new TypeError('public key: the JWK holds a private key ("d"); hand auditors the public half only');
  if (fields["kty"] !== "OKP") throw new TypeError(`public key: kty ${JSON.stringify(fields["kty"])} is not "OKP"`);
  if (fields["crv"] !== "Ed25519") throw new TypeError(`public key: crv ${JSON.stringify(fields["crv"])} is not "Ed25519"`);
  if (fields["alg"] !== void 0 && fields["alg"] !== "EdDSA") throw new TypeError(`public key: alg ${JSON.stringify(fields["alg"])} is not "EdDSA"`);
  if (fields["use"] !== void 0 && fields["use"] !== "sig") throw new TypeError(`public key: use ${JSON.stringify(fields["use"])} is not "sig"`);
  const x = fields["x"];
  if (typeof x !== "string" || !BASE64URL.test(x)) throw new TypeError("public key: x is not base64url");
  const raw = Buffer.from(x, "base64url");
  if (raw.length !== 32 || raw.toString("base64url") !== x) throw new TypeError("public key: x is not the base64url of 32 bytes");
  const name = fields["kid"];
  if (typeof name !== "string") throw new TypeError("public key: the JWK has no kid (the log's note key name)");
  try {
    checkKeyName(name);
  } catch (error) {
    throw new TypeError(`public key: kid ${error.message}`);
  }
  const publicKey = createPublicKey2({ key: { kty: "OKP", crv: "Ed25519", x }, format: "jwk" });
  return { name, publicKey };
}

// src/audit/verify/trusted-keys.ts
function trustedKeys(jwks, retired = []) {
  const list = Array.isArray(jwks) ? jwks : [jwks];
  if (list.length === 0) throw new TypeError("no public key given");
  const keys = list.map((jwk) => {
    const { name, publicKey } = publicKeyFromJwk(jwk);
    return { name, publicKey, identity: keyIdentity(name, publicKey), x: rawEd25519PublicKey(publicKey).toString("base64url") };
  });
  const stated = /* @__PURE__ */ new Map();
  for (const text of retired) {
    const statement = parseRetiredStatement(text);
    if (typeof statement === "string") throw new TypeError(statement);
    const named = keys.filter((key) => key.identity.keyId === statement.key || key.identity.fingerprint === statement.key);
    if (named.length === 0) throw new TypeError(`--retired ${text}: no key given with --key is ${statement.key}; give the retired key's JWK too`);
    const raw = new Set(named.map((key) => key.x));
    if (raw.size > 1) throw new TypeError(`--retired ${text}: several keys given have key id ${statement.key}; name the key by its sha256: fingerprint`);
    const x = named[0].x;
    if (stated.has(x)) throw new TypeError(`--retired ${text}: this key is already given as retired at ${stated.get(x)}`);
    stated.set(x, statement.index);
  }
  return keys.map((key) => stated.has(key.x) ? { ...key, retiredAt: stated.get(key.x) } : key);
}
var RETIRED_STATEMENT = /^([0-9a-f]{8}|sha256:[0-9a-f]{64})@(0|[1-9][0-9]*)$/;
function parseRetiredStatement(text) {
  const match = RETIRED_STATEMENT.exec(text);
  const index = match === null ? Number.NaN : Number(match[2]);
  if (match === null || !Number.isSafeInteger(index)) {
    return `--retired ${JSON.stringify(text)} is not KEYID@INDEX: the retired key's id (8 hex digits, or its sha256: fingerprint) and the index of the key.rotated leaf that retired it, e.g. 1a2b3c4d@30`;
  }
  return { key: match[1], index };
}
var NoteRefused = class extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
  code;
};
function verifySignedCheckpoint(bytes, keys, what) {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!isUtf8(buffer)) throw new NoteRefused("checkpoint_invalid", `${what} is not UTF-8`);
  const text = buffer.toString("utf8");
  const refusals = [];
  for (const key of keys) {
    try {
      return { checkpoint: verifyCheckpoint(text, key), key };
    } catch (error) {
      if (!(error instanceof CheckpointError)) throw error;
      if (error.code === "malformed") throw new NoteRefused("checkpoint_invalid", `${what}: ${error.message}`);
      refusals.push(error);
    }
  }
  const reported = refusals.filter((refusal) => refusal.code === "bad_signature");
  throw new NoteRefused("checkpoint_signature", `${what}: ${(reported.length > 0 ? reported : refusals).map((refusal) => refusal.message).join("; ")}`);
}
function distinctIdentities(keys) {
  const seen = /* @__PURE__ */ new Map();
  for (const { identity } of keys) if (!seen.has(identity.fingerprint)) seen.set(identity.fingerprint, identity);
  return [...seen.values()];
}

// src/audit/verify/proof-checks.ts
var ProofFailure = class extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
  code;
};
var MAX_PROOF_HASHES = 128;
function proofHashes(value, name, invalid) {
  if (!Array.isArray(value) || value.length > MAX_PROOF_HASHES) throw invalid(`${name} is not an array of at most ${MAX_PROOF_HASHES} hashes`);
  return value.map((hash2, i) => {
    const bytes = typeof hash2 === "string" ? decodeStandardBase64(hash2) : void 0;
    if (bytes === void 0 || bytes.length !== 32) throw invalid(`${name}[${i}] is not base64 of 32 bytes`);
    return bytes;
  });
}
function isObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
function isIndex(value) {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}
function checkKeyInForce(terms, size, key, what) {
  try {
    terms.check(size, key, what);
  } catch (error) {
    if (error instanceof KeyRefused) throw new ProofFailure(error.code, error.message);
    throw error;
  }
}
function settleAgainstHeld(heldText, keys, terms, tree, words) {
  let held;
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

// src/audit/verify/consistency-proof.ts
var FIELDS = ["object", "old_size", "new_size", "old_checkpoint", "new_checkpoint", "proof"];
function verifyConsistencyProof(body, options) {
  try {
    return check(body, options);
  } catch (error) {
    if (error instanceof ProofFailure) return { ok: false, code: error.code, reason: error.message };
    throw error;
  }
}
function check(body, options) {
  const fail = (code, reason) => new ProofFailure(code, reason);
  let keys;
  try {
    keys = trustedKeys(options.publicKeyJwk, options.retired);
  } catch (error) {
    throw fail("key_invalid", error.message);
  }
  const invalid = (why) => fail("consistency_invalid", `the consistency proof ${why}`);
  if (!isObject(body)) throw invalid("is not a JSON object");
  for (const field of Object.keys(body)) if (!FIELDS.includes(field)) throw invalid(`has an unexpected member ${JSON.stringify(field)}`);
  for (const field of FIELDS) if (!Object.hasOwn(body, field)) throw invalid(`has no ${field}`);
  const { object, old_size: oldSize, new_size: newSize, old_checkpoint: oldNote, new_checkpoint: newNote, proof: proofText } = body;
  if (object !== "audit.consistency") throw invalid(`object is ${JSON.stringify(object)}, not "audit.consistency"`);
  if (!isIndex(oldSize) || !isIndex(newSize)) throw invalid("old_size and new_size are not non-negative safe integers");
  if (typeof oldNote !== "string" || typeof newNote !== "string") throw invalid("old_checkpoint and new_checkpoint are not strings");
  const proof = proofHashes(proofText, "proof", invalid);
  const signedBy = (note, what) => {
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
  const terms = new KeyTerms(keys);
  checkKeyInForce(terms, newer.checkpoint.size, newer.key, "the new checkpoint");
  checkKeyInForce(terms, older.checkpoint.size, older.key, "the old checkpoint");
  const held = options.previousCheckpoint === void 0 ? false : settleAgainstHeld(options.previousCheckpoint, keys, terms, older.checkpoint, {
    otherSize: (heldSize) => `the proof starts at the tree of ${older.checkpoint.size} leaves, the checkpoint you hold is of ${heldSize}: ask for GET /v1/audit/consistency?from=${heldSize}`
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
    held
  };
}

// src/audit/verify/export-format.ts
var EXPORT_FORMAT = "atomic-audit-export/1";
var ENTRIES_FILE = "entries.jsonl";
var PREFIX_FILE = "prefix.json";
var CHECKPOINT_FILE = "checkpoint";
var CONSISTENCY_FILE = "consistency.json";
var MANIFEST_FILE = "manifest.jws";
var REQUIRED_FILES = [ENTRIES_FILE, PREFIX_FILE, CHECKPOINT_FILE];
var LISTED_FILES = [ENTRIES_FILE, PREFIX_FILE, CHECKPOINT_FILE, CONSISTENCY_FILE];
var MAX_LEAF_BYTES = 8 * 1024 * 1024;
var MAX_SMALL_FILE_BYTES = 1024 * 1024;

// src/audit/verify/json-shape.ts
var MAX_LEAF_NESTING = 1e5;
var MAX_LEAF_VALUES = 25e4;
var SCAN_MIN_BYTES = 64 * 1024;
var QUOTE = 34;
var BACKSLASH = 92;
var OPEN_ARRAY = 91;
var OPEN_OBJECT = 123;
var CLOSE_ARRAY = 93;
var CLOSE_OBJECT = 125;
var COMMA = 44;
function jsonShapeProblem(bytes, limits) {
  let depth = 0;
  let values = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (inString) {
      if (byte === BACKSLASH) i += 1;
      else if (byte === QUOTE) inString = false;
      continue;
    }
    if (byte === QUOTE) {
      inString = true;
    } else if (byte === OPEN_ARRAY || byte === OPEN_OBJECT) {
      depth += 1;
      values += 1;
      if (depth > limits.nesting) return `nests arrays and objects deeper than ${limits.nesting} levels`;
    } else if (byte === CLOSE_ARRAY || byte === CLOSE_OBJECT) {
      depth -= 1;
    } else if (byte === COMMA) {
      values += 1;
    }
    if (values > limits.values) return `holds more than ${limits.values} arrays, objects and commas`;
  }
  return void 0;
}
function leafShapeProblem(leaf) {
  if (leaf.length < SCAN_MIN_BYTES) return void 0;
  const problem = jsonShapeProblem(leaf, { nesting: MAX_LEAF_NESTING, values: MAX_LEAF_VALUES });
  return problem === void 0 ? void 0 : `${problem}: no event does, and parsing it would take more memory than the verifier allows`;
}

// src/audit/core/entry.ts
import { isUtf8 as isUtf82 } from "node:buffer";

// src/util/canonical-json.ts
function canonicalize(value) {
  const text = serialise(value, []);
  if (text === void 0) throw new TypeError("canonical JSON: the value itself is not serialisable");
  return text;
}
function serialise(value, open3) {
  switch (typeof value) {
    case "string":
    case "boolean":
      return JSON.stringify(value);
    case "number":
      if (!Number.isFinite(value)) throw new TypeError(`canonical JSON: ${value} is not a JSON number`);
      return JSON.stringify(value);
    case "bigint":
      throw new TypeError("canonical JSON: bigint has no JSON form");
    case "object":
      return value === null ? "null" : serialiseObject(value, open3);
    default:
      return void 0;
  }
}
function serialiseObject(value, open3) {
  if (typeof value.toJSON === "function") {
    return serialise(value.toJSON(), open3);
  }
  if (open3.includes(value)) throw new TypeError("canonical JSON: the value contains a cycle");
  open3.push(value);
  let text;
  if (Array.isArray(value)) {
    text = "[";
    for (let i = 0; i < value.length; i++) {
      if (i > 0) text += ",";
      text += serialise(value[i], open3) ?? "null";
    }
    text += "]";
  } else {
    text = "{";
    for (const key of Object.keys(value).sort()) {
      const member = serialise(value[key], open3);
      if (member === void 0) continue;
      if (text.length > 1) text += ",";
      text += JSON.stringify(key) + ":" + member;
    }
    text += "}";
  }
  open3.pop();
  return text;
}

// src/audit/core/entry.ts
var GENESIS_CHAIN_HASH = Buffer.alloc(32);
var LeafError = class extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
  code;
  name = "LeafError";
};
var EVENT_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
var HEX_HASH = /^[0-9a-f]{64}$/;
var LEAF_FIELDS = ["event", "index", "prev"];
function decodeLeaf(bytes) {
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!isUtf82(buffer)) throw new LeafError("not_canonical", "leaf is not valid UTF-8");
  const text = buffer.toString("utf8");
  let value;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new LeafError("malformed", `leaf is not JSON (${error.message})`);
  }
  if (!isCanonicalText(value, text)) throw new LeafError("not_canonical", "leaf is not in canonical JSON (RFC 8785) form");
  if (!isPlainObject(value)) throw new LeafError("malformed", "leaf is not a JSON object");
  for (const field of LEAF_FIELDS) {
    if (!Object.hasOwn(value, field)) throw new LeafError("malformed", `leaf has no "${field}"`);
  }
  for (const key of Object.keys(value)) {
    if (!LEAF_FIELDS.includes(key)) throw new LeafError("malformed", `leaf has an unexpected field ${JSON.stringify(key)}`);
  }
  const { index, prev, event } = value;
  if (typeof index !== "number" || !Number.isSafeInteger(index) || index < 0) {
    throw new LeafError("malformed", "leaf index is not a non-negative safe integer");
  }
  if (typeof prev !== "string" || !HEX_HASH.test(prev)) throw new LeafError("malformed", "leaf prev is not 64 lowercase hex digits");
  const problem = eventProblem(event);
  if (problem !== void 0) throw new LeafError("malformed", `leaf event: ${problem}`);
  return { index, prev: Buffer.from(prev, "hex"), event };
}
function chainHash(leaf) {
  return sha256(leaf);
}
function isCanonicalText(value, text) {
  try {
    if (JSON.stringify(value) === text) return keysInOrder(value);
    return canonicalize(value) === text;
  } catch (error) {
    throw new LeafError("malformed", `leaf has no canonical form (${error.message})`);
  }
}
function keysInOrder(value) {
  if (typeof value !== "object" || value === null) return true;
  if (Array.isArray(value)) {
    for (const item of value) if (!keysInOrder(item)) return false;
    return true;
  }
  let previous;
  for (const key of Object.keys(value)) {
    if (previous !== void 0 && !(previous < key)) return false;
    if (!keysInOrder(value[key])) return false;
    previous = key;
  }
  return true;
}
function eventProblem(event) {
  if (!isPlainObject(event)) return "not an object";
  const { v, id, time, kind } = event;
  if (v !== 1) return `version ${JSON.stringify(v) ?? "undefined"} is not 1`;
  if (typeof id !== "string" || id.length === 0) return "no id";
  if (typeof time !== "string" || !EVENT_TIME.test(time)) return "time is not UTC ISO 8601 with milliseconds";
  if (typeof kind !== "string" || kind.length === 0) return "no kind";
  return void 0;
}
function isPlainObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// src/audit/verify/receipt.ts
var RECEIPT_FIELDS = ["object", "event_id", "index", "leaf", "leaf_hash", "chain_hash", "tree_size", "root", "checkpoint", "inclusion_proof"];
var OPTIONAL_FIELDS = ["chain_hash"];
function verifyReceipt(receipt, options) {
  try {
    return check2(receipt, options);
  } catch (error) {
    if (error instanceof ProofFailure) return { ok: false, code: error.code, reason: error.message };
    throw error;
  }
}
function check2(receipt, options) {
  const fail = (code, reason) => new ProofFailure(code, reason);
  let keys;
  try {
    keys = trustedKeys(options.publicKeyJwk, options.retired);
  } catch (error) {
    throw fail("key_invalid", error.message);
  }
  const invalid = (why) => fail("receipt_invalid", `the receipt ${why}`);
  if (!isObject(receipt)) throw invalid("is not a JSON object");
  for (const field of Object.keys(receipt)) if (!RECEIPT_FIELDS.includes(field)) throw invalid(`has an unexpected member ${JSON.stringify(field)}`);
  for (const field of RECEIPT_FIELDS) if (!OPTIONAL_FIELDS.includes(field) && !Object.hasOwn(receipt, field)) throw invalid(`has no ${field}`);
  const { object, event_id: eventId, index, leaf, leaf_hash: claimedLeafHash, chain_hash: claimedChainHash, tree_size: treeSize, root, checkpoint, inclusion_proof: proofText } = receipt;
  if (object !== "audit.receipt") throw invalid(`object is ${JSON.stringify(object)}, not "audit.receipt"`);
  if (typeof eventId !== "string" || eventId.length === 0) throw invalid("event_id is not a non-empty string");
  if (!isIndex(index)) throw invalid("index is not a non-negative safe integer");
  if (typeof leaf !== "string") throw invalid("leaf is not a string");
  if (typeof claimedLeafHash !== "string") throw invalid("leaf_hash is not a string");
  if (claimedChainHash !== void 0 && typeof claimedChainHash !== "string") throw invalid("chain_hash is not a string");
  if (!isIndex(treeSize)) throw invalid("tree_size is not a non-negative safe integer");
  if (typeof root !== "string") throw invalid("root is not a string");
  if (typeof checkpoint !== "string") throw invalid("checkpoint is not a string");
  const proof = proofHashes(proofText, "inclusion_proof", invalid);
  const leafBytes = Buffer.from(leaf, "utf8");
  if (leafBytes.length > MAX_LEAF_BYTES) throw fail("entry_malformed", `the receipt's leaf is longer than ${MAX_LEAF_BYTES} bytes`);
  const costly = leafShapeProblem(leafBytes);
  if (costly !== void 0) throw fail("entry_malformed", `the receipt's leaf ${costly}`);
  let decoded;
  try {
    decoded = decodeLeaf(leafBytes);
  } catch (error) {
    if (!(error instanceof LeafError)) throw error;
    throw fail(error.code === "not_canonical" ? "entry_not_canonical" : "entry_malformed", `the receipt's leaf: ${error.message}`);
  }
  if (decoded.index !== index) throw fail("entry_mismatch", `the leaf holds index ${decoded.index}, the receipt says ${index}`);
  if (decoded.event.id !== eventId) throw fail("entry_mismatch", `the leaf holds event ${JSON.stringify(decoded.event.id)}, the receipt says ${JSON.stringify(eventId)}`);
  const computedLeafHash = leafHash(leafBytes);
  if (decodeStandardBase64(claimedLeafHash)?.equals(computedLeafHash) !== true) {
    throw fail("leaf_hash_mismatch", `leaf_hash is not the base64 of SHA-256(0x00 \u2016 leaf) = ${computedLeafHash.toString("base64")}`);
  }
  if (claimedChainHash !== void 0 && claimedChainHash !== chainHash(leafBytes).toString("hex")) {
    throw fail("leaf_hash_mismatch", `chain_hash is not the hex of SHA-256(leaf) = ${chainHash(leafBytes).toString("hex")}`);
  }
  let tree;
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
  let signed;
  try {
    signed = verifySignedCheckpoint(Buffer.from(checkpoint, "utf8"), keys, "the receipt's checkpoint");
  } catch (error) {
    if (error instanceof NoteRefused) throw fail(error.code, error.message);
    throw error;
  }
  let rotation;
  try {
    rotation = rotationOf(decoded.event, index, signed.checkpoint.origin);
  } catch (error) {
    if (!(error instanceof RotationInvalid)) throw error;
    throw fail("rotation_invalid", `the receipt's leaf ${error.message}`);
  }
  const terms = new KeyTerms(keys, { rotations: rotation === void 0 ? [] : [rotation] });
  checkKeyInForce(terms, signed.checkpoint.size, signed.key, "the receipt's checkpoint");
  const held = options.heldCheckpoint === void 0 ? false : settleAgainstHeld(options.heldCheckpoint, keys, terms, signed.checkpoint, {
    otherSize: (heldSize) => `the receipt proves inclusion in the tree of ${signed.checkpoint.size} leaves, the checkpoint you hold is of ${heldSize}: ask for GET /v1/audit/receipt/${eventId}?tree_size=${heldSize}`
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
    ...retirements.length === 0 ? {} : { retirements }
  };
}

// src/audit/verify/verify-export.ts
import { isUtf8 as isUtf83 } from "node:buffer";
import { createHash as createHash2, verify as verifySignature } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
async function verifyExport(dir, options) {
  return verifyExportSource(directorySource(dir), options);
}
function directorySource(dir) {
  return {
    async list() {
      const entries = await readdir(dir, { withFileTypes: true });
      return Promise.all(
        entries.map(
          async (entry) => entry.isFile() ? { name: entry.name, file: true, size: (await stat(join(dir, entry.name))).size } : { name: entry.name, file: false }
        )
      );
    },
    async read(name, limit) {
      const handle = await open(join(dir, name), "r");
      try {
        if ((await handle.stat()).size > limit) return void 0;
        const bytes = await handle.readFile();
        return bytes.length > limit ? void 0 : bytes;
      } finally {
        await handle.close();
      }
    },
    stream(name) {
      return createReadStream(join(dir, name), { highWaterMark: 1024 * 1024 });
    }
  };
}
var Failure = class extends Error {
  constructor(code, reason, details = {}) {
    super(reason);
    this.code = code;
    this.reason = reason;
    this.details = details;
  }
  code;
  reason;
  details;
  verdict() {
    return { ok: false, code: this.code, reason: this.reason, ...this.details };
  }
};
async function verifyExportSource(source, options, mode = "auto") {
  try {
    try {
      return await verifySource(source, options, mode);
    } catch (error) {
      if (error instanceof WorkerUnavailable && mode !== "never") return await verifySource(source, options, "never");
      throw error;
    }
  } catch (error) {
    if (error instanceof Failure) return error.verdict();
    const code = error.code;
    return { ok: false, code: "io_error", reason: `cannot read the export: ${typeof code === "string" ? `${code}: ` : ""}${error.message}` };
  }
}
async function verifySource(source, options, mode) {
  let keys;
  try {
    keys = trustedKeys(options.publicKeyJwk, options.retired);
  } catch (error) {
    throw new Failure("key_invalid", error.message);
  }
  const entries = await source.list();
  const listing = new Map(entries.map((entry) => [entry.name, entry.file]));
  const listingSizes = new Map(entries.map((entry) => [entry.name, entry.size]));
  if (!listing.has(MANIFEST_FILE)) throw new Failure("file_missing", `${MANIFEST_FILE} is missing`, { file: MANIFEST_FILE });
  if (listing.get(MANIFEST_FILE) !== true) throw new Failure("manifest_invalid", `${MANIFEST_FILE} is not a regular file`, { file: MANIFEST_FILE });
  const manifestBytes = await source.read(MANIFEST_FILE, MAX_SMALL_FILE_BYTES);
  if (manifestBytes === void 0) throw new Failure("manifest_invalid", `${MANIFEST_FILE} is larger than ${MAX_SMALL_FILE_BYTES} bytes`, { file: MANIFEST_FILE });
  const { manifest, key: manifestKey } = verifyManifest(manifestBytes, keys);
  const listed = Object.keys(manifest.files);
  for (const name of [...listing.keys()].sort()) {
    if (name === MANIFEST_FILE) continue;
    if (!listed.includes(name)) throw new Failure("file_unexpected", `${JSON.stringify(name)} is not listed in the manifest`, { file: name });
    if (listing.get(name) !== true) throw new Failure("file_unexpected", `${JSON.stringify(name)} is not a regular file`, { file: name });
  }
  for (const name of listed) {
    if (!listing.has(name)) throw new Failure("file_missing", `${JSON.stringify(name)} is listed in the manifest but missing`, { file: name });
  }
  const small = /* @__PURE__ */ new Map();
  for (const name of listed) {
    if (name === ENTRIES_FILE) continue;
    const bytes = await source.read(name, MAX_SMALL_FILE_BYTES);
    const digest2 = bytes === void 0 ? await streamDigest(source, name) : sha256(bytes).toString("hex");
    if (digest2 !== manifest.files[name]) throw new Failure("file_digest", `${name} does not have the SHA-256 the manifest lists`, { file: name });
    small.set(name, bytes);
  }
  const checkpoint = attempt(() => parseSignedCheckpoint(small.get(CHECKPOINT_FILE), keys));
  const prefix = attempt(() => parsePrefix(small.get(PREFIX_FILE)));
  const consistency = listed.includes(CONSISTENCY_FILE) ? attempt(() => parseConsistency(small.get(CONSISTENCY_FILE))) : void 0;
  const previous = options.previousCheckpoint === void 0 ? void 0 : attempt(() => parsePreviousCheckpoint(options.previousCheckpoint, keys));
  const digest = createHash2("sha256");
  const wanted = /* @__PURE__ */ new Set();
  if (previous?.ok) wanted.add(previous.value.checkpoint.size);
  if (consistency?.ok) wanted.add(consistency.value.oldSize);
  const entriesSize = listingSizes.get(ENTRIES_FILE);
  const parallel = mode === "always" || mode === "auto" && workerPossible() && entriesSize !== void 0 && entriesSize >= PARALLEL_MIN_BYTES;
  const walked = await walkEntries(source, digest, prefix.ok && checkpoint.ok ? { prefix: prefix.value, wanted, parallel, origin: checkpoint.value.checkpoint.origin } : void 0);
  if (digest.digest("hex") !== manifest.files[ENTRIES_FILE]) {
    throw new Failure("file_digest", `${ENTRIES_FILE} does not have the SHA-256 the manifest lists`, { file: ENTRIES_FILE });
  }
  const { checkpoint: signed, key: checkpointKey } = settle(checkpoint);
  const start = settle(prefix);
  if (walked === void 0) throw new Error("unreachable: entries were not walked");
  if (walked.failure !== void 0) throw walked.failure;
  const walker = { from: start.range.size, count: walked.count, rootAt: (size) => walked.roots.get(size) };
  const from = start.range.size;
  const to = signed.size;
  if (walker.count !== to - from) {
    throw new Failure(
      "entry_count",
      `${ENTRIES_FILE} holds ${walker.count} entries from index ${from}, but the checkpoint's tree has ${to} leaves` + (to < from ? ` (fewer than the ${from} of prefix.json)` : `, so ${to - from} were expected`),
      { file: ENTRIES_FILE, ...walker.count < to - from ? { index: from + walker.count } : {} }
    );
  }
  const root = walked.root;
  if (!root.equals(signed.root)) {
    throw new Failure("root_mismatch", `the root of prefix.json and ${ENTRIES_FILE} (${root.toString("base64")}) is not the checkpoint's root (${signed.root.toString("base64")})`, {
      file: CHECKPOINT_FILE
    });
  }
  if (manifest.from !== from || manifest.to !== to) {
    throw new Failure("range_mismatch", `the manifest says entries [${manifest.from}, ${manifest.to}) but prefix.json and the checkpoint say [${from}, ${to})`, {
      file: MANIFEST_FILE
    });
  }
  if (manifest.origin !== signed.origin) {
    throw new Failure("origin_mismatch", `the manifest's origin ${JSON.stringify(manifest.origin)} is not the checkpoint's ${JSON.stringify(signed.origin)}`, {
      file: MANIFEST_FILE
    });
  }
  const terms = new KeyTerms(keys, { rotations: walked.rotations });
  requireKeyInForce(terms, to, checkpointKey, "the checkpoint", CHECKPOINT_FILE);
  const kept = previous === void 0 ? void 0 : settle(previous);
  if (kept !== void 0) requireKeyInForce(terms, kept.checkpoint.size, kept.key, "the previous checkpoint");
  const keysUsed2 = distinctIdentities([checkpointKey, manifestKey]);
  const retirements = terms.retirements();
  const result = {
    ok: true,
    origin: signed.origin,
    from,
    to,
    root: signed.root.toString("base64"),
    checked: walker.count,
    keys: keysUsed2,
    ...retirements.length === 0 ? {} : { retirements }
  };
  const extension = checkConsistency(signed, walker, kept?.checkpoint, consistency === void 0 ? void 0 : settle(consistency));
  return extension === void 0 ? result : { ...result, consistency: extension };
}
function requireKeyInForce(terms, size, key, what, file) {
  try {
    terms.check(size, key, what);
  } catch (error) {
    if (error instanceof KeyRefused) throw new Failure(error.code, error.message, file === void 0 ? {} : { file });
    throw error;
  }
}
function checkConsistency(signed, walker, previous, proof) {
  const to = signed.size;
  if (previous !== void 0) {
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
  if (proof !== void 0) {
    if (proof.newSize !== to) {
      throw new Failure("consistency_failed", `${CONSISTENCY_FILE} proves size ${proof.newSize}, the checkpoint has ${to} leaves`, { file: CONSISTENCY_FILE });
    }
    if (proof.oldSize > proof.newSize) {
      throw new Failure("consistency_failed", `${CONSISTENCY_FILE} goes from size ${proof.oldSize} down to ${proof.newSize}`, { file: CONSISTENCY_FILE });
    }
    const trusted = previous !== void 0 && previous.size === proof.oldSize ? previous.root : void 0;
    const oldRoot = trusted ?? walker.rootAt(proof.oldSize);
    if (oldRoot !== void 0 && !verifyConsistency(proof.oldSize, to, oldRoot, signed.root, proof.proof)) {
      throw new Failure(
        "consistency_failed",
        `${CONSISTENCY_FILE} does not prove that the tree of ${to} leaves extends the ${trusted === void 0 ? "exported leaves' tree" : "previous checkpoint's tree"} of ${proof.oldSize}`,
        { file: CONSISTENCY_FILE }
      );
    }
    if (previous === void 0) {
      return oldRoot === void 0 ? { oldSize: proof.oldSize, against: "unchecked" } : { oldSize: proof.oldSize, oldRoot: oldRoot.toString("base64"), against: "exported-leaves" };
    }
    if (trusted !== void 0) return { oldSize: previous.size, oldRoot: previous.root.toString("base64"), against: "previous-checkpoint" };
  }
  if (previous === void 0) return void 0;
  const verdict = { oldSize: previous.size, oldRoot: previous.root.toString("base64"), against: "previous-checkpoint" };
  if (previous.size === to) return verdict;
  const rootThen = walker.rootAt(previous.size);
  if (rootThen === void 0) {
    if (proof !== void 0) {
      throw new Failure(
        "consistency_failed",
        `${CONSISTENCY_FILE} starts at size ${proof.oldSize}, not at the previous checkpoint's ${previous.size} (before the export's first index ${walker.from})`,
        { file: CONSISTENCY_FILE }
      );
    }
    throw new Failure(
      "consistency_missing",
      `the previous checkpoint has ${previous.size} leaves, before the export's first index ${walker.from}, and there is no ${CONSISTENCY_FILE} to link it`
    );
  }
  if (!rootThen.equals(previous.root)) {
    throw new Failure("fork", `the exported leaves give another root at size ${previous.size} than the previous checkpoint: the log forked`, { file: ENTRIES_FILE });
  }
  return verdict;
}
var BASE64URL2 = /^[A-Za-z0-9_-]*$/;
var HEX_DIGEST = /^[0-9a-f]{64}$/;
var MANIFEST_FIELDS = ["format", "origin", "from", "to", "files", "createdAt"];
var keyNames = (keys) => [...new Set(keys.map((key) => JSON.stringify(key.name)))].join(" or ");
function verifyManifest(bytes, keys) {
  const invalid = (why) => new Failure("manifest_invalid", `${MANIFEST_FILE}: ${why}`, { file: MANIFEST_FILE });
  let text = bytes.toString("latin1");
  if (text.endsWith("\n")) text = text.slice(0, -1);
  const parts = text.split(".");
  if (parts.length !== 3) throw invalid("not a compact JWS (three base64url parts separated by dots)");
  const [headerPart, payloadPart, signaturePart] = parts;
  const header = decodeJsonPart(headerPart);
  if (header === void 0 || !isObject2(header)) throw invalid("the JWS header is not base64url JSON object");
  if (header["alg"] !== "EdDSA") throw invalid(`the JWS alg is ${JSON.stringify(header["alg"])}, not "EdDSA"`);
  if (Object.hasOwn(header, "crit")) throw invalid("the JWS header has crit: no extension is understood");
  if (Object.hasOwn(header, "b64")) throw invalid("the JWS header has b64: the payload must be base64url-encoded");
  if (typeof header["kid"] !== "string") throw invalid("the JWS header has no kid");
  const named = keys.filter((key) => key.name === header["kid"]);
  if (named.length === 0) {
    throw new Failure("manifest_signature", `${MANIFEST_FILE} is signed by key ${JSON.stringify(header["kid"])}, not by ${keyNames(keys)}`, {
      file: MANIFEST_FILE
    });
  }
  const signature = decodeBase64url(signaturePart);
  if (signature === void 0 || signature.length !== 64) throw invalid("the JWS signature is not base64url of 64 bytes");
  if (decodeBase64url(payloadPart) === void 0) throw invalid("the JWS payload is not base64url");
  const signed = Buffer.from(`${headerPart}.${payloadPart}`, "ascii");
  const signer = named.find((key) => verifySignature(null, signed, key.publicKey, signature));
  if (signer === void 0) {
    throw new Failure("manifest_signature", `the signature of ${MANIFEST_FILE} does not verify with ${named.length === 1 ? "key" : "any key named"} ${keyNames(named)}`, {
      file: MANIFEST_FILE
    });
  }
  const payload = decodeJsonPart(payloadPart);
  if (!isObject2(payload)) throw invalid("the payload is not a JSON object");
  for (const field of Object.keys(payload)) if (!MANIFEST_FIELDS.includes(field)) throw invalid(`unexpected field ${JSON.stringify(field)}`);
  for (const field of MANIFEST_FIELDS) if (!Object.hasOwn(payload, field)) throw invalid(`no ${field}`);
  const { format, origin, from, to, files, createdAt } = payload;
  if (format !== EXPORT_FORMAT) throw invalid(`format ${JSON.stringify(format)} is not ${JSON.stringify(EXPORT_FORMAT)}`);
  if (typeof origin !== "string" || origin.length === 0) throw invalid("origin is not a non-empty string");
  if (!isIndex2(from) || !isIndex2(to) || from > to) throw invalid("from and to are not indexes with from \u2264 to");
  if (typeof createdAt !== "string" || Number.isNaN(Date.parse(createdAt))) throw invalid("createdAt is not an ISO 8601 time");
  if (!isObject2(files)) throw invalid("files is not an object");
  for (const [name, digest] of Object.entries(files)) {
    if (!LISTED_FILES.includes(name)) throw invalid(`files lists ${JSON.stringify(name)}, which is no file of the format`);
    if (typeof digest !== "string" || !HEX_DIGEST.test(digest)) throw invalid(`the digest of ${name} is not 64 lowercase hex digits`);
  }
  for (const name of REQUIRED_FILES) if (!Object.hasOwn(files, name)) throw invalid(`files does not list ${name}`);
  return { manifest: payload, key: signer };
}
function decodeBase64url(text) {
  if (!BASE64URL2.test(text)) return void 0;
  const bytes = Buffer.from(text, "base64url");
  return bytes.toString("base64url") === text ? bytes : void 0;
}
function decodeJsonPart(part) {
  const bytes = decodeBase64url(part);
  if (bytes === void 0 || !isUtf83(bytes)) return void 0;
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch {
    return void 0;
  }
}
function attempt(run) {
  try {
    return { ok: true, value: run() };
  } catch (error) {
    if (error instanceof Failure) return { ok: false, failure: error };
    throw error;
  }
}
function settle(result) {
  if (!result.ok) throw result.failure;
  return result.value;
}
function parseSignedCheckpoint(bytes, keys) {
  return checkNote(bytes, keys, CHECKPOINT_FILE, "checkpoint");
}
function parsePreviousCheckpoint(note, keys) {
  if (typeof note !== "string") throw new Failure("checkpoint_invalid", "the previous checkpoint is not text");
  return checkNote(Buffer.from(note, "utf8"), keys, void 0, "the previous checkpoint");
}
function checkNote(bytes, keys, file, what) {
  const at = file === void 0 ? {} : { file };
  if (bytes === void 0) throw new Failure("checkpoint_invalid", `${what} is larger than ${MAX_SMALL_FILE_BYTES} bytes`, at);
  try {
    return verifySignedCheckpoint(bytes, keys, what);
  } catch (error) {
    if (error instanceof NoteRefused) throw new Failure(error.code, error.message, at);
    throw error;
  }
}
function parsePrefix(bytes) {
  const invalid = (why) => new Failure("prefix_invalid", `${PREFIX_FILE}: ${why}`, { file: PREFIX_FILE });
  const value = parseJsonFile(bytes, invalid);
  exactFields(value, ["size", "hashes", "chain"], invalid);
  const { size, hashes, chain } = value;
  if (!isIndex2(size)) throw invalid("size is not a non-negative safe integer");
  if (!Array.isArray(hashes)) throw invalid("hashes is not an array");
  const decoded = hashes.map((hash2, i) => {
    const bytes2 = typeof hash2 === "string" ? decodeStandardBase64(hash2) : void 0;
    if (bytes2 === void 0 || bytes2.length !== 32) throw invalid(`hashes[${i}] is not base64 of 32 bytes`);
    return bytes2;
  });
  if (typeof chain !== "string" || !HEX_DIGEST.test(chain)) throw invalid("chain is not 64 lowercase hex digits");
  if (size === 0 && !/^0{64}$/.test(chain)) throw invalid("chain must be 64 zeros when size is 0");
  let range;
  try {
    range = CompactRange.from(size, decoded);
  } catch (error) {
    throw invalid(error.message);
  }
  return { range, chain: Buffer.from(chain, "hex") };
}
function parseConsistency(bytes) {
  const invalid = (why) => new Failure("consistency_failed", `${CONSISTENCY_FILE}: ${why}`, { file: CONSISTENCY_FILE });
  const value = parseJsonFile(bytes, invalid);
  exactFields(value, ["oldSize", "newSize", "proof"], invalid);
  const { oldSize, newSize, proof } = value;
  if (!isIndex2(oldSize) || !isIndex2(newSize)) throw invalid("oldSize and newSize are not non-negative safe integers");
  if (!Array.isArray(proof) || proof.length > 128) throw invalid("proof is not an array of at most 128 hashes");
  const hashes = proof.map((hash2, i) => {
    const decoded = typeof hash2 === "string" ? decodeStandardBase64(hash2) : void 0;
    if (decoded === void 0 || decoded.length !== 32) throw invalid(`proof[${i}] is not base64 of 32 bytes`);
    return decoded;
  });
  return { oldSize, newSize, proof: hashes };
}
function parseJsonFile(bytes, invalid) {
  if (bytes === void 0) throw invalid(`larger than ${MAX_SMALL_FILE_BYTES} bytes`);
  if (!isUtf83(bytes)) throw invalid("not UTF-8");
  let value;
  try {
    value = JSON.parse(bytes.toString("utf8"));
  } catch (error) {
    throw invalid(`not JSON (${error.message})`);
  }
  if (!isObject2(value)) throw invalid("not a JSON object");
  return value;
}
function exactFields(value, fields, invalid) {
  for (const field of Object.keys(value)) if (!fields.includes(field)) throw invalid(`unexpected field ${JSON.stringify(field)}`);
  for (const field of fields) if (!Object.hasOwn(value, field)) throw invalid(`no ${field}`);
}
async function streamDigest(source, name) {
  const digest = createHash2("sha256");
  for await (const chunk of source.stream(name)) digest.update(chunk);
  return digest.digest("hex");
}
function isObject2(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
function isIndex2(value) {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}
var NEWLINE = 10;
var WORKER_ROLE = "atomic-audit-leaf-inspector";
var PARALLEL_MIN_BYTES = 4 * 1024 * 1024;
var MAX_IN_FLIGHT = 4;
var LineSplitter = class {
  partial = [];
  partialLength = 0;
  /** Bytes after the last newline: a file that ends with some is cut short. */
  get pendingBytes() {
    return this.partialLength;
  }
  /** Hands each complete line to onLine until it returns false. */
  split(chunk, onLine) {
    const bytes = asBuffer2(chunk);
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
};
var LeafInspector = class {
  /** `origin`: the checkpoint's, over which key.rotated handovers are signed. */
  constructor(from, origin) {
    this.from = from;
    this.origin = origin;
  }
  from;
  origin;
  line = 0;
  lines = new LineSplitter();
  chain = new RotationChain();
  failed = false;
  push(chunk) {
    const prevs = [];
    const rotations = [];
    if (this.failed) return { lines: 0, prevs: new Uint8Array(0), rotations };
    let failure;
    const split = this.lines.split(chunk, (line) => {
      failure = this.inspect(line, prevs, rotations);
      return failure === void 0;
    });
    if (split === "overlong") failure = { code: "entry_malformed", why: `is longer than ${MAX_LEAF_BYTES} bytes` };
    if (failure !== void 0) this.failed = true;
    return { lines: prevs.length, prevs: Buffer.concat(prevs), rotations, ...failure === void 0 ? {} : { failure } };
  }
  end() {
    const failure = !this.failed && this.lines.pendingBytes > 0 ? { code: "entry_malformed", why: "does not end with a newline (the file is cut short)" } : void 0;
    return { lines: 0, prevs: new Uint8Array(0), rotations: [], ...failure === void 0 ? {} : { failure } };
  }
  inspect(line, prevs, rotations) {
    if (line.length > MAX_LEAF_BYTES) return { code: "entry_malformed", why: `is longer than ${MAX_LEAF_BYTES} bytes` };
    const costly = leafShapeProblem(line);
    if (costly !== void 0) return { code: "entry_malformed", why: costly };
    const index = this.from + this.line;
    let decoded;
    try {
      decoded = decodeLeaf(line);
    } catch (error) {
      if (!(error instanceof LeafError)) throw error;
      return { code: error.code === "not_canonical" ? "entry_not_canonical" : "entry_malformed", why: error.message };
    }
    if (decoded.index !== index) return { code: "index_gap", why: `holds index ${decoded.index} where index ${index} was expected` };
    let rotation;
    try {
      rotation = rotationOf(decoded.event, index, this.origin);
    } catch (error) {
      if (!(error instanceof RotationInvalid)) throw error;
      return { code: "rotation_invalid", why: error.message };
    }
    if (rotation !== void 0) {
      const broken = this.chain.follow(rotation);
      if (broken !== void 0) return { code: "rotation_invalid", why: broken };
      rotations.push(rotation);
    }
    prevs.push(decoded.prev);
    this.line += 1;
    return void 0;
  }
};
var LeafHasher = class {
  constructor(start, wanted) {
    this.wanted = wanted;
    this.range = new CompactRangeBuilder(start);
    if (wanted.has(start.size)) this.roots.set(start.size, start.root());
  }
  wanted;
  lines = new LineSplitter();
  overflow = false;
  scratch = Buffer.alloc(64 * 1024);
  range;
  /** Roots at the sizes asked for (only meaningful once every line up to there verified). */
  roots = /* @__PURE__ */ new Map();
  /** Chain hashes of the lines this chunk completes. */
  push(chunk) {
    const chains = [];
    if (this.overflow) return chains;
    const split = this.lines.split(chunk, (line) => {
      chains.push(this.hash(line));
      return true;
    });
    if (split === "overlong") this.overflow = true;
    return chains;
  }
  hash(line) {
    if (this.scratch.length < line.length + 1) this.scratch = Buffer.alloc(Math.max(line.length + 1, this.scratch.length * 2));
    this.scratch[0] = 0;
    line.copy(this.scratch, 1);
    this.range.append(sha256(this.scratch.subarray(0, line.length + 1)));
    if (this.wanted.has(this.range.size)) this.roots.set(this.range.size, this.range.root());
    return sha256(line);
  }
};
var WorkerUnavailable = class extends Error {
};
function inlineChannel(from, origin) {
  const inspector = new LeafInspector(from, origin);
  return {
    push: async (chunk) => inspector.push(chunk),
    end: async () => inspector.end(),
    close: async () => void 0
  };
}
function workerChannel(from, origin) {
  const worker = new Worker(new URL(import.meta.url), { workerData: { role: WORKER_ROLE, from, origin } });
  const waiting = [];
  let broken;
  const breakAll = (error) => {
    broken ??= new WorkerUnavailable(`the leaf-checking worker failed: ${error.message}`);
    for (const waiter of waiting.splice(0)) waiter.reject(broken);
  };
  worker.on("message", (result) => waiting.shift()?.resolve(result));
  worker.on("error", breakAll);
  worker.on("exit", (code) => breakAll(new Error(`exited with code ${code}`)));
  const ask = (message, transfer = []) => {
    const answer = new Promise((resolve, reject) => {
      if (broken !== void 0) return reject(broken);
      waiting.push({ resolve, reject });
      worker.postMessage(message, transfer);
    });
    answer.catch(() => void 0);
    return answer;
  };
  return {
    push: (chunk) => {
      const copy = new Uint8Array(chunk);
      return ask({ chunk: copy }, [copy.buffer]);
    },
    end: () => ask({ end: true }),
    close: async () => {
      worker.removeAllListeners("exit");
      await worker.terminate();
    }
  };
}
function serveInspector() {
  const port = parentPort;
  if (port === null) return;
  const { from, origin } = workerData;
  const inspector = new LeafInspector(from, origin);
  port.on("message", (message) => {
    const result = message.end === true ? inspector.end() : inspector.push(message.chunk);
    port.postMessage(result, [result.prevs.buffer].filter((buffer) => buffer.byteLength > 0));
  });
}
if (!isMainThread && workerData?.role === WORKER_ROLE) serveInspector();
function workerPossible() {
  return /\.m?js$/.test(new URL(import.meta.url).pathname);
}
async function walkEntries(source, digest, walk) {
  if (walk === void 0) {
    for await (const chunk of source.stream(ENTRIES_FILE)) digest.update(chunk);
    return void 0;
  }
  const from = walk.prefix.range.size;
  const hasher = new LeafHasher(walk.prefix.range, walk.wanted);
  const channel = walk.parallel ? workerChannel(from, walk.origin) : inlineChannel(from, walk.origin);
  const pending = [];
  const rotations = [];
  let count = 0;
  let expectedPrev = walk.prefix.chain;
  let failure;
  const fail = (code, why) => {
    const index = from + count;
    failure = new Failure(code, `${ENTRIES_FILE} line ${count + 1} (index ${index}): ${why}`, { index, file: ENTRIES_FILE });
  };
  const merge = (result, chains) => {
    if (failure !== void 0) return;
    for (let i = 0; i < result.lines; i++) {
      const prev = result.prevs.subarray(32 * i, 32 * i + 32);
      if (!expectedPrev.equals(prev)) {
        const index = from + count;
        fail("chain_broken", index === 0 ? "its prev is not 64 zeros" : index === from ? `its prev is not the chain hash of index ${index - 1} that ${PREFIX_FILE} gives` : `its prev is not the chain hash of index ${index - 1}`);
        break;
      }
      expectedPrev = chains[i];
      count += 1;
    }
    for (const rotation of result.rotations) if (rotation.index < from + count) rotations.push(rotation);
    if (failure === void 0 && result.failure !== void 0) fail(result.failure.code, result.failure.why);
  };
  try {
    for await (const chunk of source.stream(ENTRIES_FILE)) {
      digest.update(chunk);
      if (failure !== void 0) continue;
      const result = channel.push(chunk);
      pending.push({ result, chains: hasher.push(chunk) });
      while (pending.length > (walk.parallel ? MAX_IN_FLIGHT : 0)) {
        const next = pending.shift();
        merge(await next.result, next.chains);
      }
    }
    for (const next of pending.splice(0)) merge(await next.result, next.chains);
    if (failure === void 0) merge(await channel.end(), []);
  } finally {
    await channel.close();
  }
  return { count, ...failure === void 0 ? {} : { failure }, root: hasher.range.root(), roots: hasher.roots, rotations };
}
function asBuffer2(bytes) {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

// src/audit/verify/cli-main.ts
var USAGE = [
  "usage: node verify.mjs DIR --key pub.jwk [--key older.jwk ...] [--previous checkpoint-file] [--require-previous] [--retired KEYID@INDEX ...]",
  "       node verify.mjs receipt RECEIPT.json --key pub.jwk [--key older.jwk ...] [--checkpoint checkpoint-file] [--retired KEYID@INDEX ...]",
  "       node verify.mjs consistency PROOF.json --key pub.jwk [--key older.jwk ...] [--previous checkpoint-file] [--require-previous] [--retired KEYID@INDEX ...]",
  "       node verify.mjs key pub.jwk",
  "--retired KEYID@INDEX: the retired key of that id (or sha256: fingerprint) signs no tree of more than INDEX leaves,",
  "INDEX being the index of the key.rotated leaf that retired it; a key given without it, and retired by no leaf verified, is the current key"
].join("\n");
var NO_KEY = "no --key given: pass the log's public key as you obtained it out of band, after comparing its id and fingerprint (node verify.mjs key FILE) with the operator's; never a key taken from the export or receipt you are verifying (entry 0 of the log carries the public key, and a forger would put theirs there)";
var MODES = ["receipt", "consistency", "key"];
var MODE_FLAGS = {
  export: ["key", "retired", "previous", "require-previous"],
  receipt: ["key", "retired", "checkpoint"],
  consistency: ["key", "retired", "previous", "require-previous"],
  key: []
};
function parseVerifierArgs(argv) {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        key: { type: "string", multiple: true },
        retired: { type: "string", multiple: true },
        previous: { type: "string" },
        "require-previous": { type: "boolean" },
        checkpoint: { type: "string" },
        help: { type: "boolean", short: "h" }
      }
    });
  } catch (error) {
    return { problem: error.message };
  }
  const { values, positionals } = parsed;
  if (values.help) return { help: true };
  const [first, second] = positionals;
  const modeWord = MODES.includes(first ?? "") && positionals.length === 2;
  if (first === void 0 || positionals.length > (modeWord ? 2 : 1)) return { problem: "give one export directory, or a mode and one file" };
  const mode = modeWord ? first : "export";
  const path = modeWord ? second : first;
  for (const flag of ["key", "retired", "previous", "require-previous", "checkpoint"]) {
    if (values[flag] !== void 0 && !MODE_FLAGS[mode].includes(flag)) return { problem: `--${flag} does not apply to ${mode === "export" ? "an export" : `the ${mode} mode`}` };
  }
  if (mode === "key") return { command: { mode, path } };
  const keys = values.key ?? [];
  if (keys.length === 0) return { problem: NO_KEY };
  for (const statement of values.retired ?? []) {
    const parsed2 = parseRetiredStatement(statement);
    if (typeof parsed2 === "string") return { problem: parsed2 };
  }
  const retired = values.retired === void 0 ? {} : { retired: values.retired };
  if (mode === "receipt") return { command: { mode, path, keys, ...retired, ...values.checkpoint === void 0 ? {} : { checkpoint: values.checkpoint } } };
  return { command: { mode, path, keys, ...retired, requirePrevious: values["require-previous"] === true, ...values.previous === void 0 ? {} : { previous: values.previous } } };
}
async function runVerifierCli(argv) {
  const parsed = parseVerifierArgs(argv);
  if ("help" in parsed) return { exitCode: 0, stdout: USAGE };
  if ("problem" in parsed) return { exitCode: 2, stderr: `${parsed.problem}
${USAGE}` };
  return runVerifierCommand(parsed.command);
}
async function runVerifierCommand(command) {
  try {
    switch (command.mode) {
      case "key":
        return keyCommand(await readText(command.path, "the key file", MAX_BYTES.key));
      case "export":
        return await exportCommand(command);
      case "receipt":
        return await receiptCommand(command);
      case "consistency":
        return await consistencyCommand(command);
    }
  } catch (error) {
    if (error instanceof Unreadable) return { exitCode: 2, stderr: error.message };
    throw error;
  }
}
var Unreadable = class extends Error {
};
var MAX_BYTES = {
  key: 64 * 1024,
  checkpoint: MAX_SMALL_FILE_BYTES,
  receipt: 2 * MAX_LEAF_BYTES + 2 * MAX_SMALL_FILE_BYTES,
  consistency: 3 * MAX_SMALL_FILE_BYTES
};
var PROOF_JSON_SHAPE = { nesting: 8, values: 1e4 };
async function readText(path, what, limit) {
  let handle;
  try {
    handle = await open2(path, "r");
  } catch (error) {
    throw new Unreadable(`cannot read ${what} ${path}: ${error.message}`);
  }
  try {
    const { size } = await handle.stat();
    if (size > limit) throw new Unreadable(`cannot use ${what} ${path}: it is ${size} bytes, more than the ${limit} that any can be`);
    const bytes = await handle.readFile();
    if (bytes.length > limit) throw new Unreadable(`cannot use ${what} ${path}: it grew past ${limit} bytes while being read`);
    return bytes.toString("utf8");
  } catch (error) {
    if (error instanceof Unreadable) throw error;
    throw new Unreadable(`cannot read ${what} ${path}: ${error.message}`);
  } finally {
    await handle.close();
  }
}
async function readKeys(paths) {
  const texts = [];
  for (const path of paths) texts.push(await readText(path, "the key file", MAX_BYTES.key));
  return texts.map(parseJson);
}
function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return void 0;
  }
}
function parseProofJson(text) {
  const problem = jsonShapeProblem(Buffer.from(text, "utf8"), PROOF_JSON_SHAPE);
  return problem === void 0 ? { value: parseJson(text) } : { problem: `${problem}: it is no such JSON` };
}
var PREVIOUS_MISSING = "FAILED: previous_missing: --require-previous was given without --previous: nothing would show that the log did not rewrite what you audited before";
async function exportCommand(command) {
  if (command.requirePrevious && command.previous === void 0) return { exitCode: 1, stdout: PREVIOUS_MISSING };
  const isDirectory = await stat2(command.path).then((info) => info.isDirectory(), () => false);
  if (!isDirectory) return { exitCode: 2, stderr: `${command.path} is not a directory
${USAGE}` };
  const publicKeyJwk = await readKeys(command.keys);
  const previousCheckpoint = command.previous === void 0 ? void 0 : await readText(command.previous, "the previous checkpoint", MAX_BYTES.checkpoint);
  const verdict = await verifyExport(command.path, { publicKeyJwk, ...retiredOf(command), ...previousCheckpoint === void 0 ? {} : { previousCheckpoint } });
  return { exitCode: verdict.ok ? 0 : 1, stdout: verdictLine(verdict) };
}
async function receiptCommand(command) {
  const publicKeyJwk = await readKeys(command.keys);
  const receipt = parseProofJson(await readText(command.path, "the receipt", MAX_BYTES.receipt));
  if ("problem" in receipt) return { exitCode: 1, stdout: `FAILED: receipt_invalid: the receipt ${oneLine(receipt.problem)}` };
  const heldCheckpoint = command.checkpoint === void 0 ? void 0 : await readText(command.checkpoint, "the checkpoint", MAX_BYTES.checkpoint);
  const verdict = verifyReceipt(receipt.value, { publicKeyJwk, ...retiredOf(command), ...heldCheckpoint === void 0 ? {} : { heldCheckpoint } });
  return { exitCode: verdict.ok ? 0 : 1, stdout: receiptVerdictLine(verdict) };
}
async function consistencyCommand(command) {
  if (command.requirePrevious && command.previous === void 0) return { exitCode: 1, stdout: PREVIOUS_MISSING };
  const publicKeyJwk = await readKeys(command.keys);
  const body = parseProofJson(await readText(command.path, "the consistency proof", MAX_BYTES.consistency));
  if ("problem" in body) return { exitCode: 1, stdout: `FAILED: consistency_invalid: the consistency proof ${oneLine(body.problem)}` };
  const previousCheckpoint = command.previous === void 0 ? void 0 : await readText(command.previous, "the previous checkpoint", MAX_BYTES.checkpoint);
  const verdict = verifyConsistencyProof(body.value, { publicKeyJwk, ...retiredOf(command), ...previousCheckpoint === void 0 ? {} : { previousCheckpoint } });
  return { exitCode: verdict.ok ? 0 : 1, stdout: consistencyVerdictLine(verdict) };
}
var retiredOf = (command) => command.retired === void 0 ? {} : { retired: command.retired };
function keyCommand(text) {
  try {
    const [key] = trustedKeys(parseJson(text));
    return { exitCode: 0, stdout: `key ${describeKey(key.identity)}` };
  } catch (error) {
    return { exitCode: 1, stdout: `FAILED: key_invalid: ${oneLine(error.message)}` };
  }
}
var keysUsed = (keys) => `${keys.length === 1 ? "key" : "keys"} ${keys.map(describeKey).join(", ")}`;
var retiredWords = (retirements) => (retirements ?? []).map(({ key, index }) => `; key ${key.keyId} retired by the key.rotated leaf at index ${index} (later trees without that leaf: --retired ${key.keyId}@${index})`).join("");
function oneLine(text) {
  return text.replace(/[\p{Cc}\p{Cf}\u2028\u2029]/gu, (char) => `\\u${char.codePointAt(0).toString(16).padStart(4, "0")}`);
}
function verdictLine(verdict) {
  if (!verdict.ok) {
    return `FAILED${verdict.index === void 0 ? "" : ` at index ${verdict.index}`}: ${verdict.code}: ${oneLine(verdict.reason)}`;
  }
  let line = `OK: origin ${verdict.origin}, entries [${verdict.from}, ${verdict.to}), root ${verdict.root}; ${keysUsed(verdict.keys)}${retiredWords(verdict.retirements)}`;
  const consistency = verdict.consistency;
  if (consistency?.against === "previous-checkpoint") {
    return `${line}; extends size ${consistency.oldSize} (root ${consistency.oldRoot ?? "?"}, checked against the previous checkpoint)`;
  }
  if (consistency?.against === "unchecked") line += `; consistency from size ${consistency.oldSize} NOT checked (give the checkpoint of that size with --previous)`;
  if (consistency?.against === "exported-leaves") line += `; extends size ${consistency.oldSize} (root ${consistency.oldRoot ?? "?"}, checked against the exported leaves)`;
  line += "; NOT checked against a checkpoint you kept (no --previous): this shows what the log signs now, not that it kept what it signed before";
  return line;
}
function receiptVerdictLine(verdict) {
  if (!verdict.ok) return `FAILED: ${verdict.code}: ${oneLine(verdict.reason)}`;
  const line = `OK: event ${verdict.eventId} (${verdict.kind}) is entry ${verdict.index} of origin ${verdict.origin}, in the tree of ${verdict.treeSize} leaves, root ${verdict.root}; ${keysUsed([verdict.key])}${retiredWords(verdict.retirements)}`;
  return verdict.held ? `${line}; the tree of the checkpoint you hold` : `${line}; NOT compared with a checkpoint you kept (no --checkpoint): link this tree to your archive with a consistency proof`;
}
function consistencyVerdictLine(verdict) {
  if (!verdict.ok) return `FAILED: ${verdict.code}: ${oneLine(verdict.reason)}`;
  const line = `OK: origin ${verdict.origin}, the tree of ${verdict.newSize} leaves (root ${verdict.newRoot}) extends the tree of ${verdict.oldSize} (root ${verdict.oldRoot}); ${keysUsed(verdict.keys)}`;
  return verdict.held ? `${line}; from the checkpoint you hold` : `${line}; NOT checked against a checkpoint you kept (no --previous): the old tree is the server's own copy`;
}

// src/audit/verify/cli.ts
if (isMainThread2) {
  const result = await runVerifierCli(process.argv.slice(2));
  if (result.stdout !== void 0) process.stdout.write(`${result.stdout}
`);
  if (result.stderr !== void 0) process.stderr.write(`${result.stderr}
`);
  process.exitCode = result.exitCode;
}
