import { generateKeyPairSync } from "node:crypto";
import { pathToFileURL } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import type { AuditEvent } from "../../src/audit/core/entry.js";
import { chainHash, encodeLeaf, GENESIS_CHAIN_HASH } from "../../src/audit/core/entry.js";
import { signCheckpoint } from "../../src/audit/core/checkpoint.js";
import { publicJwk } from "../../src/audit/core/keys.js";
import { consistencyProof, inclusionRanges, leafHash, rootFromLeafHashes } from "../../src/audit/core/merkle.js";
import { receiptBody } from "../../src/audit/verify/receipt.js";

/**
 * The dashboard's in-browser verifier (src/ui/assets/verify.js), run here under Node's WebCrypto against proofs and
 * checkpoints made by the log's own code (src/audit/core): it must accept exactly what they make and name what was
 * changed. test/ui/dashboard.test.ts runs it in Chromium against a real gateway.
 */
type Bytes = Uint8Array;
interface Verify {
  VerifyError: new (...args: never[]) => Error & { code: string };
  verifyInclusion(index: number, size: number, leaf: Bytes, proof: Bytes[], root: Bytes): Promise<boolean>;
  verifyConsistency(oldSize: number, newSize: number, oldRoot: Bytes, newRoot: Bytes, proof: Bytes[]): Promise<boolean>;
  trustedKey(jwk: unknown, standing?: { retired?: boolean; retiredAt?: number }): Promise<{ name: string; keyIdHex: string; fingerprint: string }>;
  verifyCheckpoint(note: string, keys: unknown[]): Promise<{ checkpoint: { size: number }; signer: { name: string } }>;
  verifyReceipt(receipt: unknown, held: string, eventId: string): Promise<{ index: number; treeSize: number }>;
}

let verify: Verify;
beforeAll(async () => {
  verify = (await import(pathToFileURL(`${process.cwd()}/src/ui/assets/verify.js`).href)) as Verify;
});

const ORIGIN = "atomic.test/log";
const signer = (name: string) => {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return { name, privateKey, publicKey, jwk: publicJwk({ name, publicKey }) };
};

/** A log of `size` real leaves, as the sequencer writes them. */
function log(size: number) {
  const leaves: Buffer[] = [];
  let prev = GENESIS_CHAIN_HASH;
  for (let index = 0; index < size; index++) {
    const event: AuditEvent = { v: 1, id: `0190c1a2-0000-7000-8000-${String(index).padStart(12, "0")}`, time: "2026-01-02T03:04:05.678Z", kind: "request", outcome: { status: "succeeded" } };
    const leaf = encodeLeaf(index, prev, event);
    leaves.push(leaf);
    prev = chainHash(leaf);
  }
  const hashes = leaves.map((leaf) => leafHash(leaf));
  const proof = (index: number) => inclusionRanges(index, size).map(({ start, end }) => rootFromLeafHashes(hashes.slice(start, end)));
  return { leaves, hashes, root: rootFromLeafHashes(hashes), proof };
}

async function expectFailure(promise: Promise<unknown>, code: string, words: RegExp): Promise<void> {
  const error = await promise.then(() => null, (failure: unknown) => failure);
  expect(error).toBeInstanceOf(verify.VerifyError);
  expect((error as { code: string }).code).toBe(code);
  expect((error as Error).message).toMatch(words);
}

describe("the dashboard's verifier", () => {
  it("accepts every inclusion and consistency proof the log's code makes, and refuses one with a changed hash", async () => {
    for (let size = 1; size <= 17; size++) {
      const tree = log(size);
      for (let index = 0; index < size; index++) {
        const proof = tree.proof(index);
        expect(await verify.verifyInclusion(index, size, tree.hashes[index]!, proof, tree.root), `${index} of ${size}`).toBe(true);
        if (proof.length > 0) {
          const changed = proof.map((hash, i) => (i === proof.length - 1 ? Buffer.from(hash).fill(7, 0, 1) : hash));
          expect(await verify.verifyInclusion(index, size, tree.hashes[index]!, changed, tree.root)).toBe(false);
        }
      }
      for (let old = 1; old <= size; old++) {
        const oldRoot = rootFromLeafHashes(tree.hashes.slice(0, old));
        const proof = consistencyProof(old, tree.hashes);
        expect(await verify.verifyConsistency(old, size, oldRoot, tree.root, proof), `${old} → ${size}`).toBe(true);
        if (old < size) expect(await verify.verifyConsistency(old, size, tree.root, tree.root, proof)).toBe(false);
      }
    }
  });

  it("verifies a signed checkpoint with the log's key, and names what is wrong with one it must refuse", async () => {
    const key = signer("atomic.test");
    const trusted = [await verify.trustedKey(key.jwk)];
    const tree = log(5);
    const note = signCheckpoint({ origin: ORIGIN, size: 5, root: tree.root }, key);
    const { checkpoint, signer: by } = await verify.verifyCheckpoint(note, trusted);
    expect(checkpoint.size).toBe(5);
    expect(by.name).toBe("atomic.test");

    const otherRoot = note.replace(tree.root.toString("base64"), rootFromLeafHashes(tree.hashes.slice(0, 4)).toString("base64"));
    await expectFailure(verify.verifyCheckpoint(otherRoot, trusted), "checkpoint_signature", /signature by key "atomic\.test" does not verify/);
    const otherKey = signCheckpoint({ origin: ORIGIN, size: 5, root: tree.root }, signer("atomic.test"));
    await expectFailure(verify.verifyCheckpoint(otherKey, trusted), "checkpoint_signature", /no signature by the log's key atomic\.test/);
    await expectFailure(verify.verifyCheckpoint("atomic.test/log\n5\n", trusted), "checkpoint_invalid", /no blank line/);
  });

  it("verifies a receipt against the signed checkpoint it names, and refuses one whose leaf, proof or tree was changed", async () => {
    const key = signer("atomic.test");
    const tree = log(9);
    const note = signCheckpoint({ origin: ORIGIN, size: 9, root: tree.root }, key);
    const receipt = receiptBody({ eventId: "0190c1a2-0000-7000-8000-000000000006", index: 6, leaf: tree.leaves[6]!, checkpoint: { size: 9, root: tree.root, note }, proof: tree.proof(6) });
    expect(await verify.verifyReceipt(receipt, note, receipt.event_id)).toMatchObject({ index: 6, treeSize: 9 });

    const leaf = receipt.leaf.replace('"succeeded"', '"failed"');
    await expectFailure(verify.verifyReceipt({ ...receipt, leaf }, note, receipt.event_id), "leaf_hash_mismatch", /SHA-256\(0x00 ‖ leaf\)/);
    const proof = [...receipt.inclusion_proof.slice(1), receipt.inclusion_proof[0]!];
    await expectFailure(verify.verifyReceipt({ ...receipt, inclusion_proof: proof }, note, receipt.event_id), "inclusion_failed", /does not lead from the leaf at index 6/);
    const older = signCheckpoint({ origin: ORIGIN, size: 8, root: rootFromLeafHashes(tree.hashes.slice(0, 8)) }, key);
    await expectFailure(verify.verifyReceipt(receipt, older, receipt.event_id), "checkpoint_mismatch", /not the signed one fetched/);
    await expectFailure(verify.verifyReceipt(receipt, note, "0190c1a2-0000-7000-8000-000000000005"), "receipt_invalid", /is for event/);
    const spaced = receipt.leaf.replace('{"event":', '{ "event":');
    await expectFailure(verify.verifyReceipt({ ...receipt, leaf: spaced }, note, receipt.event_id), "entry_not_canonical", /canonical/);
  });

  it("holds a retired key to the leaf that retired it, and takes only one key for the current one, as the auditors' verifier does", async () => {
    // A rotation at leaf 6: the retired key signed the trees of up to 6 leaves, the current key those after.
    const [retired, current] = [signer("atomic.test"), signer("atomic.test")];
    const tree = log(9);
    const note = (size: number, by: typeof retired) => signCheckpoint({ origin: ORIGIN, size, root: rootFromLeafHashes(tree.hashes.slice(0, size)) }, by);
    // As the dashboard is given them (GET /v1/admin/audit/keys): the current key, and retired ones without their leaf.
    const listed = [await verify.trustedKey(current.jwk), await verify.trustedKey(retired.jwk, { retired: true })];
    expect((await verify.verifyCheckpoint(note(9, current), listed)).signer.name).toBe("atomic.test");
    await expectFailure(verify.verifyCheckpoint(note(9, retired), listed), "key_unbounded", /of 9 leaves is signed by key atomic\.test .*lists as retired without the index of the key\.rotated leaf/);
    await expectFailure(verify.verifyCheckpoint(note(5, retired), listed), "key_unbounded", /cannot tell whether it signed that tree before its rotation/);
    // With the index of its rotation leaf: within it, and past it.
    const placed = [await verify.trustedKey(current.jwk), await verify.trustedKey(retired.jwk, { retiredAt: 6 })];
    expect((await verify.verifyCheckpoint(note(6, retired), placed)).checkpoint.size).toBe(6);
    await expectFailure(verify.verifyCheckpoint(note(7, retired), placed), "key_retired", /of 7 leaves is signed by key atomic\.test .*retired by the key\.rotated leaf at index 6: it signs trees of at most 6 leaves/);
    // Two keys given as current: which one was retired cannot be told.
    const both = [await verify.trustedKey(current.jwk), await verify.trustedKey(retired.jwk)];
    await expectFailure(verify.verifyCheckpoint(note(9, current), both), "key_unbounded", /2 keys are given as the log's current one/);
    await expectFailure(verify.trustedKey(retired.jwk, { retiredAt: -1 }), "key_invalid", /is not a leaf index/);
  });
});
