/**
 * The SDKs' shared test vectors (sdk/testdata/vectors.json), made with Atomic's own audit code so that every SDK's
 * offline verifiers are checked against what the gateway writes and what its TypeScript verifier decides:
 *   receipts: a receipt (as GET /v1/audit/receipt answers it), the trusted keys, and the verdict of
 *             src/audit/verify/receipt.ts, valid and tampered. A key is a JWK, or {"key": JWK, "retired_at": r} for a
 *             key retired by the key.rotated leaf at index r (the verifier's --retired); each SDK takes those in
 *             its own words;
 *   webhooks: a delivery signed as src/orchestration/activities/gateway.ts signs it, and what a receiver must decide.
 * Deterministic (fixed Ed25519 seeds; Ed25519 signatures are deterministic): test/sdk/sdk.test.ts fails when the
 * committed file is not what this makes.
 *
 *   npx tsx sdk/testdata/make-vectors.ts        → rewrites sdk/testdata/vectors.json
 */
import { createHash, createPrivateKey, createPublicKey } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { CompactSign } from "jose";
import type { AuditEvent } from "../../src/audit/core/entry.js";
import { chainHash } from "../../src/audit/core/entry.js";
import { signHandover } from "../../src/audit/core/handover.js";
import { publicJwk, type SigningKey } from "../../src/audit/core/keys.js";
import { leafHash } from "../../src/audit/core/merkle.js";
import { verifyReceipt, type ReceiptBody } from "../../src/audit/verify/receipt.js";
import { fingerprintOf } from "../../src/audit/verify/rotation-leaf.js";
import { SyntheticLog, syntheticEvent } from "../../src/audit/verify/testing/export-fixture.js";
import { WEBHOOK_SIGNATURE_TYPE } from "../../src/orchestration/activities/gateway.js";
import { canonicalize } from "../../src/util/canonical-json.js";

export const VECTORS_FILE = join(import.meta.dirname, "vectors.json");

const ORIGIN = "atomic.sdk-vectors";
/** Seconds since the epoch at which the webhook vectors are signed (2026-01-01T00:00:00Z). */
const SIGNED_AT = 1_767_225_600;
const TOLERANCE_SECONDS = 300;

/** An Ed25519 key from a fixed 32-byte seed (PKCS#8: the RFC 8410 prefix, then the seed). */
function fixedKey(name: string, seedByte: number): SigningKey {
  const der = Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), Buffer.alloc(32, seedByte)]);
  const privateKey = createPrivateKey({ key: der, format: "der", type: "pkcs8" });
  return { name, privateKey, publicKey: createPublicKey(privateKey) };
}

/** An event whose canonical form exercises what an SDK's canonical JSON must get right, byte for byte. */
function trickyEvent(): AuditEvent {
  return {
    v: 1,
    id: "0190f5c2-0000-7fff-8fff-0000000000aa",
    time: "2026-01-01T00:00:00.000Z",
    kind: "config.loaded",
    detail: {
      // Keys in UTF-16 code unit order differ from code point order: U+1F600 (D83D DE00) sorts before U+FFFF.
      "\uffff": "last by code point",
      "\u{1F600}": "first by UTF-16",
      "a\u0000b": "control in a key",
      numbers: [0, -0.5, 0.1, 1 / 3, 1e21, 1e-7, 1.5e-7, 123456789012345680000, 5e-324, 1.7976931348623157e308, 2 ** 53, -1e-6, 1e20],
      text: "quote \" backslash \\ tab \t newline \n bell \u0007 unit-separator \u001f del \u007f line-sep \u2028 é 😀",
      nested: { z: [true, false, null], a: {} },
    },
  };
}

function buildLog(key: SigningKey): SyntheticLog {
  return SyntheticLog.build(key, ORIGIN, 12, (i) => (i === 10 ? trickyEvent() : syntheticEvent(i)));
}

/** The key.rotated leaf as `atomic keys rotate` queues it; `signer` makes the handover (the retiring key's, when honest). */
function rotationEvent(i: number, previous: SigningKey, next: SigningKey, signer: SigningKey = previous): AuditEvent {
  const { v, id, time } = syntheticEvent(i);
  const nextKey = publicJwk(next)["x"] as string;
  return { v, id, time, kind: "key.rotated", detail: { previousKey: publicJwk(previous)["x"] as string, nextKey, handover: signHandover(ORIGIN, nextKey, signer.privateKey) } };
}

/** A key retired by the key.rotated leaf at index `at`, in the vectors' words. */
function retired(jwk: Record<string, unknown>, at: number): { key: Record<string, unknown>; retired_at: number } {
  return { key: jwk, retired_at: at };
}

interface ReceiptCase {
  name: string;
  receipt: unknown;
  /** The trusted public keys (JWKs, or retired(JWK, index)): several after a rotation. */
  keys: unknown;
  held_checkpoint?: string;
}

type Mutable = Record<string, unknown>;

function b64(bytes: Buffer): string {
  return bytes.toString("base64");
}

/** The receipt with its leaf replaced, and its copies of the leaf hash and chain hash recomputed to match. */
function withLeaf(receipt: ReceiptBody, leaf: string): Mutable {
  const bytes = Buffer.from(leaf, "utf8");
  return { ...receipt, leaf, leaf_hash: b64(leafHash(bytes)), chain_hash: chainHash(bytes).toString("hex") };
}

function flipBase64Byte(text: string, at: number): string {
  const bytes = Buffer.from(text, "base64");
  bytes[at] = (bytes[at] as number) ^ 0x01;
  return b64(bytes);
}

/** The note with one byte of its (first) signature flipped, the key id left alone. */
function flipSignature(note: string): string {
  const [body, block] = [note.slice(0, note.lastIndexOf("\n\n") + 2), note.slice(note.lastIndexOf("\n\n") + 2)];
  const line = block.split("\n")[0] as string;
  const space = line.lastIndexOf(" ");
  return `${body}${line.slice(0, space + 1)}${flipBase64Byte(line.slice(space + 1), 10)}\n`;
}

function receiptCases(): ReceiptCase[] {
  const key = fixedKey("atomic.sdk-vectors", 0x11);
  const other = fixedKey("atomic.sdk-vectors", 0x22);
  const stranger = fixedKey("someone.else", 0x33);
  const third = fixedKey("atomic.sdk-vectors", 0x44);
  const jwk = publicJwk(key);
  const otherJwk = publicJwk(other);
  const log = buildLog(key);
  const size = 11;
  const receipt = log.receipt(5, size);
  const tricky = log.receipt(10, size);
  const leaf = JSON.parse(receipt.leaf) as { event: Mutable; index: number; prev: string };
  const relabelled = canonicalize({ event: { ...leaf.event, outcome: { status: "failed", code: "x" } }, index: leaf.index, prev: leaf.prev });
  const { chain_hash: _chain, ...withoutChain } = receipt;
  const checkpoint9 = log.checkpointAt(9);
  const lastInTwelve = log.receipt(11, 12);
  const tree11 = log.receipt(0, 11);
  // A rotation from key to other at leaf 6: key signs the trees of up to 6 leaves, other the later ones.
  const rotatedEvent = (i: number) => (i === 6 ? rotationEvent(i, key, other) : syntheticEvent(i));
  const rotated = SyntheticLog.build(key, ORIGIN, 9, rotatedEvent);
  rotated.keyAt = (n) => (n <= 6 ? key : other);
  // The same leaves in trees that key signed past its rotation: what whoever obtained the retired key would sign.
  const pastRotation = SyntheticLog.build(key, ORIGIN, 9, rotatedEvent);
  const badHandover = SyntheticLog.build(key, ORIGIN, 9, (i) => (i === 6 ? rotationEvent(i, key, other, other) : syntheticEvent(i)));
  badHandover.keyAt = rotated.keyAt;
  const signedByThird = SyntheticLog.build(key, ORIGIN, 9, rotatedEvent);
  signedByThird.keyAt = (n) => (n <= 6 ? key : third);

  return [
    { name: "valid", receipt, keys: [jwk] },
    { name: "valid single key, not a list", receipt, keys: jwk },
    { name: "valid canonical edge cases in the leaf", receipt: tricky, keys: [jwk] },
    { name: "valid first leaf", receipt: log.receipt(0, size), keys: [jwk] },
    { name: "valid last leaf", receipt: lastInTwelve, keys: [jwk] },
    { name: "valid one-leaf tree, empty proof", receipt: log.receipt(0, 1), keys: [jwk] },
    { name: "valid power-of-two tree", receipt: log.receipt(3, 8), keys: [jwk] },
    { name: "valid without chain_hash", receipt: withoutChain, keys: [jwk] },
    { name: "valid after a rotation: the current key signed, the retired one bounded", receipt, keys: [retired(otherJwk, 4), jwk] },
    { name: "valid after a rotation: the retired key signed within its bound", receipt, keys: [otherJwk, retired(jwk, size)] },
    { name: "valid after a rotation: the retired key signed well within its bound", receipt, keys: [retired(jwk, 30), otherJwk] },
    { name: "retired key signed a tree past its bound", receipt, keys: [otherJwk, retired(jwk, size - 1)] },
    { name: "two keys without a bound", receipt, keys: [otherJwk, jwk] },
    { name: "held checkpoint signed by a retired key past its bound", receipt, keys: [retired(otherJwk, 9), jwk], held_checkpoint: buildLog(other).checkpointAt(11) },
    { name: "valid receipt of a key.rotated leaf: it bounds the key it retires", receipt: rotated.receipt(6, 7), keys: [jwk, otherJwk] },
    { name: "valid receipt of a key.rotated leaf, the retired key also given with its bound", receipt: rotated.receipt(6, 9), keys: [retired(jwk, 6), otherJwk] },
    { name: "key.rotated leaf in a tree the key it retires signed", receipt: pastRotation.receipt(6, 8), keys: [jwk, otherJwk] },
    { name: "key.rotated leaf whose handover the retiring key did not make", receipt: badHandover.receipt(6, 7), keys: [jwk, otherJwk] },
    { name: "key.rotated leaf handing the log to a key not given", receipt: signedByThird.receipt(6, 7), keys: [jwk, publicJwk(third)] },
    { name: "key bound not a leaf index", receipt, keys: [retired(jwk, -1)] },
    { name: "key bounded twice", receipt, keys: [retired(jwk, size), retired(jwk, size + 1), otherJwk] },
    { name: "valid in the held checkpoint", receipt, keys: [jwk], held_checkpoint: receipt.checkpoint },
    { name: "held checkpoint of another size", receipt, keys: [jwk], held_checkpoint: checkpoint9 },
    { name: "held checkpoint of another log", receipt, keys: [jwk], held_checkpoint: SyntheticLog.build(key, "another.log", 11).checkpointAt(11) },
    { name: "held checkpoint forks", receipt, keys: [jwk], held_checkpoint: SyntheticLog.build(key, ORIGIN, 11, (i) => syntheticEvent(i, "fork")).checkpointAt(11) },
    { name: "held checkpoint signed by an untrusted key", receipt, keys: [jwk], held_checkpoint: buildLog(other).checkpointAt(11) },
    { name: "wrong leaf (hashes recomputed)", receipt: withLeaf(receipt, relabelled), keys: [jwk] },
    { name: "wrong leaf (hashes left)", receipt: { ...receipt, leaf: relabelled }, keys: [jwk] },
    { name: "wrong leaf hash", receipt: { ...receipt, leaf_hash: flipBase64Byte(receipt.leaf_hash, 0) }, keys: [jwk] },
    { name: "wrong chain hash", receipt: { ...receipt, chain_hash: "0".repeat(64) }, keys: [jwk] },
    { name: "wrong proof node", receipt: { ...receipt, inclusion_proof: receipt.inclusion_proof.map((h, i) => (i === 1 ? flipBase64Byte(h, 31) : h)) }, keys: [jwk] },
    { name: "proof node missing", receipt: { ...receipt, inclusion_proof: receipt.inclusion_proof.slice(0, -1) }, keys: [jwk] },
    { name: "proof node added", receipt: { ...receipt, inclusion_proof: [...receipt.inclusion_proof, receipt.root] }, keys: [jwk] },
    { name: "proof node not base64 of 32 bytes", receipt: { ...receipt, inclusion_proof: ["AAAA"] }, keys: [jwk] },
    { name: "wrong signature", receipt: { ...receipt, checkpoint: flipSignature(receipt.checkpoint) }, keys: [jwk] },
    { name: "wrong key", receipt, keys: [publicJwk(other)] },
    { name: "wrong key name", receipt, keys: [publicJwk(stranger)] },
    { name: "wrong tree size", receipt: { ...receipt, tree_size: 12 }, keys: [jwk] },
    { name: "wrong root", receipt: { ...receipt, root: flipBase64Byte(receipt.root, 3) }, keys: [jwk] },
    { name: "wrong tree size, signed", receipt: { ...receipt, tree_size: 9, root: b64(log.rootAt(9)), checkpoint: checkpoint9 }, keys: [jwk] },
    { name: "wrong tree size in the checkpoint's text", receipt: (() => {
      const forged = receipt.checkpoint.replace(`\n${size}\n`, "\n12\n");
      return { ...receipt, tree_size: 12, checkpoint: forged };
    })(), keys: [jwk] },
    { name: "index outside the tree", receipt: { ...lastInTwelve, tree_size: 11, root: tree11.root, checkpoint: tree11.checkpoint }, keys: [jwk] },
    { name: "index not the leaf's", receipt: { ...receipt, index: 6 }, keys: [jwk] },
    { name: "event id not the leaf's", receipt: { ...receipt, event_id: tricky.event_id }, keys: [jwk] },
    { name: "leaf not canonical (whitespace)", receipt: withLeaf(receipt, receipt.leaf.replace('{"event":', '{ "event":')), keys: [jwk] },
    { name: "leaf not canonical (key order)", receipt: withLeaf(receipt, relabelled.replace(/^\{"event":(.*),"index":(\d+),"prev":("[0-9a-f]+")\}$/, '{"index":$2,"event":$1,"prev":$3}')), keys: [jwk] },
    { name: "leaf not canonical (number form)", receipt: withLeaf(tricky, tricky.leaf.replace("1e+21", "1000000000000000000000")), keys: [jwk] },
    { name: "leaf not canonical (escaped letter)", receipt: withLeaf(tricky, tricky.leaf.replace("é", "\\u00e9")), keys: [jwk] },
    { name: "leaf not canonical (upper-case escape)", receipt: withLeaf(tricky, tricky.leaf.replace("\\u001f", "\\u001F")), keys: [jwk] },
    { name: "leaf not JSON", receipt: withLeaf(receipt, "not json"), keys: [jwk] },
    { name: "leaf not an object", receipt: withLeaf(receipt, "[1,2]"), keys: [jwk] },
    { name: "leaf without prev", receipt: withLeaf(receipt, canonicalize({ event: leaf.event, index: leaf.index })), keys: [jwk] },
    { name: "leaf event of version 2", receipt: withLeaf(receipt, canonicalize({ event: { ...leaf.event, v: 2 }, index: leaf.index, prev: leaf.prev })), keys: [jwk] },
    { name: "receipt with an unexpected member", receipt: { ...receipt, extra: 1 }, keys: [jwk] },
    { name: "receipt without inclusion_proof", receipt: (({ inclusion_proof: _p, ...rest }) => rest)(receipt), keys: [jwk] },
    { name: "receipt of another object", receipt: { ...receipt, object: "audit.consistency" }, keys: [jwk] },
    { name: "receipt with a fractional index", receipt: { ...receipt, index: 5.5 }, keys: [jwk] },
    { name: "receipt not an object", receipt: [receipt], keys: [jwk] },
    { name: "checkpoint without signatures", receipt: { ...receipt, checkpoint: receipt.checkpoint.slice(0, receipt.checkpoint.lastIndexOf("\n\n") + 1) }, keys: [jwk] },
    { name: "checkpoint with a bad signature line", receipt: { ...receipt, checkpoint: `${receipt.checkpoint}- not a signature\n` }, keys: [jwk] },
    { name: "key that is private", receipt, keys: [{ ...jwk, d: "AAAA" }] },
    { name: "key of another curve", receipt, keys: [{ ...jwk, crv: "X25519" }] },
    { name: "key with a short x", receipt, keys: [{ ...jwk, x: "AAAA" }] },
    { name: "key without kid", receipt, keys: [(({ kid: _k, ...rest }) => rest)(jwk)] },
    { name: "no key", receipt, keys: [] },
  ];
}

/** The vectors' keys as the verifier takes them: the JWKs, and --retired "sha256:<fingerprint>@<index>" for each bound. */
function verifierKeys(keys: unknown): { publicKeyJwk: unknown; retired: string[] } {
  if (!Array.isArray(keys)) return { publicKeyJwk: keys, retired: [] };
  const retiredKeys: string[] = [];
  const publicKeyJwk = keys.map((entry: unknown) => {
    if (typeof entry !== "object" || entry === null || !Object.hasOwn(entry, "key")) return entry;
    const { key, retired_at: at } = entry as { key: { x: string }; retired_at: number };
    retiredKeys.push(`${fingerprintOf(key.x)}@${at}`);
    return key;
  });
  return { publicKeyJwk, retired: retiredKeys };
}

/** What src/audit/verify/receipt.ts decides, in the vectors' words. */
function receiptExpectation(testCase: ReceiptCase): Record<string, unknown> {
  const verdict = verifyReceipt(testCase.receipt, { ...verifierKeys(testCase.keys), ...(testCase.held_checkpoint === undefined ? {} : { heldCheckpoint: testCase.held_checkpoint }) });
  if (!verdict.ok) return { ok: false, code: verdict.code };
  return {
    ok: true,
    event_id: verdict.eventId,
    kind: verdict.kind,
    index: verdict.index,
    origin: verdict.origin,
    tree_size: verdict.treeSize,
    root: verdict.root,
    key: { name: verdict.key.name, key_id: verdict.key.keyId, fingerprint: verdict.key.fingerprint },
    held: verdict.held,
  };
}

/** A delivery as the gateway's deliverWebhook sends it: the exact body bytes, the headers, the JWS. */
async function signDelivery(key: SigningKey, body: string, options: { taskId: string; attempt: number; iat: number; typ?: string; alg?: string }) {
  const payload = { taskId: options.taskId, attempt: options.attempt, iat: options.iat, bodySha256: createHash("sha256").update(body, "utf8").digest("hex") };
  const signature = await new CompactSign(Buffer.from(JSON.stringify(payload), "utf8"))
    .setProtectedHeader({ alg: "EdDSA", kid: key.name, typ: options.typ ?? WEBHOOK_SIGNATURE_TYPE })
    .sign(key.privateKey);
  return { "x-atomic-task-id": options.taskId, "x-atomic-delivery-attempt": String(options.attempt), "x-atomic-signature": signature };
}

async function webhookCases(): Promise<Array<Record<string, unknown>>> {
  const key = fixedKey("atomic.sdk-vectors", 0x11);
  const other = fixedKey("atomic.sdk-vectors", 0x22);
  const jwk = publicJwk(key);
  const taskId = "0190f5c2-1111-7aaa-8bbb-000000000001";
  const body = JSON.stringify({ object: "task.event", type: "task.succeeded", taskId, status: "succeeded", result: { answer: "é" }, error: null, links: { task: `/v1/tasks/${taskId}` } });
  const signed = await signDelivery(key, body, { taskId, attempt: 2, iat: SIGNED_AT });
  const base = { body, headers: signed, keys: [jwk], now: SIGNED_AT + 10, tolerance_seconds: TOLERANCE_SECONDS };
  const [header, payload, signature] = signed["x-atomic-signature"].split(".") as [string, string, string];
  const ok = { ok: true, task_id: taskId, attempt: 2, iat: SIGNED_AT };
  return [
    { name: "valid", ...base, expect: ok },
    { name: "valid after a rotation: the second key signed", ...base, keys: [publicJwk(other), jwk], expect: ok },
    { name: "valid at the edge of the tolerance", ...base, now: SIGNED_AT - TOLERANCE_SECONDS, expect: ok },
    { name: "body changed", ...base, body: body.replace("succeeded", "failed"), expect: { ok: false, code: "body_mismatch" } },
    { name: "task id header not the signed one", ...base, headers: { ...signed, "x-atomic-task-id": "0190f5c2-1111-7aaa-8bbb-000000000002" }, expect: { ok: false, code: "task_mismatch" } },
    { name: "attempt header not the signed one", ...base, headers: { ...signed, "x-atomic-delivery-attempt": "3" }, expect: { ok: false, code: "attempt_mismatch" } },
    { name: "too old", ...base, now: SIGNED_AT + TOLERANCE_SECONDS + 1, expect: { ok: false, code: "timestamp_out_of_tolerance" } },
    { name: "from the future", ...base, now: SIGNED_AT - TOLERANCE_SECONDS - 1, expect: { ok: false, code: "timestamp_out_of_tolerance" } },
    { name: "wrong key", ...base, keys: [publicJwk(other)], expect: { ok: false, code: "signature_invalid" } },
    { name: "key of another name", ...base, keys: [publicJwk(fixedKey("someone.else", 0x11))], expect: { ok: false, code: "unknown_key" } },
    { name: "signature changed", ...base, headers: { ...signed, "x-atomic-signature": `${header}.${payload}.${Buffer.from(Buffer.from(signature, "base64url").map((b, i) => (i === 0 ? b ^ 1 : b))).toString("base64url")}` }, expect: { ok: false, code: "signature_invalid" } },
    { name: "another token type", ...base, headers: await signDelivery(key, body, { taskId, attempt: 2, iat: SIGNED_AT, typ: "JWT" }), expect: { ok: false, code: "signature_type" } },
    { name: "no signature", ...base, headers: { "x-atomic-task-id": taskId, "x-atomic-delivery-attempt": "2" }, expect: { ok: false, code: "signature_missing" } },
    { name: "not a compact JWS", ...base, headers: { ...signed, "x-atomic-signature": `${header}.${payload}` }, expect: { ok: false, code: "signature_malformed" } },
    { name: "key that is private", ...base, keys: [{ ...jwk, d: "AAAA" }], expect: { ok: false, code: "key_invalid" } },
  ];
}

export async function makeVectors(): Promise<Record<string, unknown>> {
  return {
    comment: "Generated by sdk/testdata/make-vectors.ts from Atomic's own audit code; do not edit. Receipt verdicts are those of src/audit/verify/receipt.ts.",
    receipts: receiptCases().map((testCase) => ({ ...testCase, expect: receiptExpectation(testCase) })),
    webhooks: await webhookCases(),
  };
}

export async function vectorsText(): Promise<string> {
  return `${JSON.stringify(await makeVectors(), null, 1)}\n`;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(VECTORS_FILE, await vectorsText());
  process.stdout.write(`wrote ${VECTORS_FILE}\n`);
}
