import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { signCheckpoint } from "../core/checkpoint.js";
import { chainHash } from "../core/entry.js";
import { keyIdentity } from "../core/key-identity.js";
import { publicJwk, type SigningKey } from "../core/keys.js";
import { leafHash } from "../core/merkle.js";
import { runVerifierCli } from "./cli-main.js";
import { verifyConsistencyProof } from "./consistency-proof.js";
import { verifyReceipt, type ReceiptBody } from "./receipt.js";
import { SyntheticLog, syntheticEvent } from "./testing/export-fixture.js";

const ORIGIN = "atomic.test/proofs";
const newKey = (name = "atomic.proofs"): SigningKey => ({ name, ...generateKeyPairSync("ed25519") });
const key = newKey();
const jwk = publicJwk(key);
const log = SyntheticLog.build(key, ORIGIN, 21);
/** The same log as a forger would have it: one leaf changed, everything rehashed and signed with their own key. */
const forger = newKey(key.name);
const forged = SyntheticLog.build(forger, ORIGIN, 21, (i) => syntheticEvent(i, i === 5 ? "altered" : ""));
/** A log that signed another history under the real key: what only a log whose key signed two trees can produce. */
const fork = SyntheticLog.build(key, ORIGIN, 21, (i) => syntheticEvent(i, i === 5 ? "fork" : ""));

const flip = (base64: string) => {
  const bytes = Buffer.from(base64, "base64");
  bytes[0] = (bytes[0] as number) ^ 1;
  return bytes.toString("base64");
};

describe("verifyReceipt", () => {
  const check = (receipt: unknown, heldCheckpoint?: string, publicKeyJwk: unknown = jwk) =>
    verifyReceipt(receipt, { publicKeyJwk, ...(heldCheckpoint === undefined ? {} : { heldCheckpoint }) });

  it("accepts an honest receipt at every index and tree size, naming the key, and whether a held checkpoint was compared", () => {
    for (const treeSize of [1, 2, 7, 8, 13, 21]) {
      for (let index = 0; index < treeSize; index++) {
        expect(check(log.receipt(index, treeSize)), `${index} in ${treeSize}`).toMatchObject({ ok: true, index, treeSize, held: false });
      }
    }
    expect(check(log.receipt(5, 13), log.checkpointAt(13))).toEqual({
      ok: true, eventId: syntheticEvent(5).id, kind: syntheticEvent(5).kind, index: 5, origin: ORIGIN, treeSize: 13,
      root: log.rootAt(13).toString("base64"), key: keyIdentity(key.name, key.publicKey), held: true,
    });
  });

  it("keeps the two hashes apart: leaf_hash has the RFC 6962 0x00 prefix, chain_hash has none", () => {
    const receipt = log.receipt(3);
    const leaf = Buffer.from(receipt.leaf, "utf8");
    expect(receipt.leaf_hash).toBe(leafHash(leaf).toString("base64"));
    expect(receipt.chain_hash).toBe(chainHash(leaf).toString("hex"));
    expect(JSON.parse(log.receipt(4).leaf).prev).toBe(receipt.chain_hash);
    // A receipt fetched before chain_hash existed verifies all the same.
    const { chain_hash: _dropped, ...older } = receipt;
    expect(check(older)).toMatchObject({ ok: true });
  });

  it("refuses a receipt whose entry was altered, at the first step that catches it", () => {
    const receipt = log.receipt(5);
    const altered = receipt.leaf.replace(/"kind":"([^"]+)"/, '"kind":"forged.$1"');
    expect(altered).not.toBe(receipt.leaf);
    // Alone: the leaf hash no longer matches. With the hashes recomputed too: the proof no longer leads to the root.
    expect(check({ ...receipt, leaf: altered })).toMatchObject({ ok: false, code: "leaf_hash_mismatch" });
    const rehashed = { ...receipt, leaf: altered, leaf_hash: leafHash(Buffer.from(altered)).toString("base64"), chain_hash: chainHash(Buffer.from(altered)).toString("hex") };
    expect(check(rehashed)).toMatchObject({ ok: false, code: "inclusion_failed" });
    expect(check({ ...receipt, chain_hash: "00".repeat(32) })).toMatchObject({ ok: false, code: "leaf_hash_mismatch", reason: expect.stringContaining("chain_hash") });
    expect(check({ ...receipt, leaf: receipt.leaf.replace('{"event":', '{ "event":') })).toMatchObject({ ok: false, code: "entry_not_canonical" });
    expect(check({ ...receipt, leaf: "not json" })).toMatchObject({ ok: false, code: "entry_malformed" });
  });

  it("refuses a receipt that names another entry than the one it proves", () => {
    const receipt = log.receipt(5);
    expect(check({ ...receipt, event_id: syntheticEvent(6).id })).toMatchObject({ ok: false, code: "entry_mismatch" });
    // Leaf 5's path, presented as index 6's: the leaf says which index it is.
    expect(check({ ...receipt, index: 6 })).toMatchObject({ ok: false, code: "entry_mismatch" });
    // Leaf 6 with leaf 5's proof.
    const other = log.receipt(6);
    expect(check({ ...other, inclusion_proof: receipt.inclusion_proof })).toMatchObject({ ok: false, code: "inclusion_failed" });
  });

  it("refuses forged inclusion proofs: a changed, missing, extra or reordered hash, or a proof for another tree", () => {
    const receipt = log.receipt(5, 13);
    const proof = receipt.inclusion_proof;
    expect(proof.length).toBeGreaterThan(2);
    const forgeries: Record<string, string[]> = {
      changed: [flip(proof[0]!), ...proof.slice(1)],
      "last changed": [...proof.slice(0, -1), flip(proof.at(-1)!)],
      missing: proof.slice(0, -1),
      "missing first": proof.slice(1),
      extra: [...proof, proof[0]!],
      reordered: [proof[1]!, proof[0]!, ...proof.slice(2)],
      empty: [],
      "another tree's": log.receipt(5, 21).inclusion_proof,
    };
    for (const [name, inclusion_proof] of Object.entries(forgeries)) {
      expect(check({ ...receipt, inclusion_proof }), name).toMatchObject({ ok: false, code: "inclusion_failed" });
    }
    // The leaf itself as a one-leaf tree: the proof must reach the checkpoint's root, not any root.
    expect(check({ ...receipt, inclusion_proof: [], tree_size: 1, root: receipt.leaf_hash })).toMatchObject({ ok: false, code: "tree_mismatch" });
  });

  it("refuses a receipt whose tree_size or root are not the checkpoint's, or whose index is outside it", () => {
    const receipt = log.receipt(5, 13);
    expect(check({ ...receipt, tree_size: 21 })).toMatchObject({ ok: false, code: "tree_mismatch" });
    expect(check({ ...receipt, root: log.rootAt(21).toString("base64") })).toMatchObject({ ok: false, code: "tree_mismatch" });
    const beyond = log.receipt(12, 13);
    const inSmaller = { ...beyond, checkpoint: log.checkpointAt(8), tree_size: 8, root: log.rootAt(8).toString("base64") };
    expect(check(inSmaller)).toMatchObject({ ok: false, code: "inclusion_failed", reason: expect.stringContaining("outside") });
  });

  it("refuses a checkpoint signed by another key, even when everything else is consistent", () => {
    const counterfeit = forged.receipt(5);
    // Same key name, a forger's key: the receipt is internally perfect.
    expect(verifyReceipt(counterfeit, { publicKeyJwk: publicJwk(forger) })).toMatchObject({ ok: true });
    expect(check(counterfeit)).toMatchObject({ ok: false, code: "checkpoint_signature" });
    // The real checkpoint of that size with the forger's leaf and proof: the root is not the signed one.
    expect(check({ ...counterfeit, checkpoint: log.checkpointAt(21) })).toMatchObject({ ok: false, code: "tree_mismatch" });
    expect(check({ ...counterfeit, checkpoint: log.checkpointAt(21), root: log.rootAt(21).toString("base64") })).toMatchObject({ ok: false, code: "inclusion_failed" });
    // A valid signature line whose signature bytes were altered.
    const note = log.checkpointAt(21);
    const lastLine = note.trimEnd().split("\n").at(-1)!;
    const badSignature = note.replace(lastLine, `${lastLine.slice(0, -4)}AAA=`);
    expect(check({ ...log.receipt(5), checkpoint: badSignature })).toMatchObject({ ok: false, code: "checkpoint_signature" });
    expect(check({ ...log.receipt(5), checkpoint: "garbage" })).toMatchObject({ ok: false, code: "checkpoint_invalid" });
  });

  it("verifies a checkpoint signed by a retired key when the auditor gives every key, and names the one that signed", () => {
    const retired = newKey(key.name);
    const old = SyntheticLog.build(retired, ORIGIN, 21);
    const retiredAt8 = `${keyIdentity(retired.name, retired.publicKey).keyId}@8`;
    expect(verifyReceipt(old.receipt(3, 8), { publicKeyJwk: [jwk, publicJwk(retired)], retired: [retiredAt8] })).toMatchObject({ ok: true, key: keyIdentity(retired.name, retired.publicKey) });
    // Without saying which key was retired, and where, neither can be taken for the current one.
    expect(check(old.receipt(3, 8), undefined, [jwk, publicJwk(retired)])).toMatchObject({ ok: false, code: "key_unbounded" });
  });

  it("proves inclusion in a checkpoint the auditor holds, and refuses another size, another history or another log", () => {
    const held = log.checkpointAt(13);
    expect(check(log.receipt(5, 13), held)).toMatchObject({ ok: true, held: true });
    expect(check(log.receipt(5, 21), held)).toMatchObject({ ok: false, code: "checkpoint_mismatch", reason: expect.stringContaining(`?tree_size=13`) });
    // The server proves inclusion in a tree of the held size that is not the held tree: the log signed two trees.
    expect(check(fork.receipt(7, 13), held)).toMatchObject({ ok: false, code: "fork" });
    const otherLog = signCheckpoint({ origin: "atomic.test/other", size: 13, root: log.rootAt(13) }, key);
    expect(check(log.receipt(5, 13), otherLog)).toMatchObject({ ok: false, code: "origin_mismatch" });
    expect(check(log.receipt(5, 13), forged.checkpointAt(13))).toMatchObject({ ok: false, code: "checkpoint_signature" });
  });

  it("refuses anything that is not exactly a receipt, and an invalid key", () => {
    const receipt: ReceiptBody = log.receipt(2);
    const cases: Array<[unknown, string]> = [
      [null, "is not a JSON object"],
      [[receipt], "is not a JSON object"],
      [{ ...receipt, extra: 1 }, "unexpected member"],
      [{ ...receipt, object: "audit.export" }, "object is"],
      [(({ leaf_hash: _, ...rest }) => rest)(receipt), "has no leaf_hash"],
      [{ ...receipt, index: -1 }, "index"],
      [{ ...receipt, index: 1.5 }, "index"],
      [{ ...receipt, tree_size: "21" }, "tree_size"],
      [{ ...receipt, inclusion_proof: ["AAAA"] }, "inclusion_proof[0]"],
      [{ ...receipt, inclusion_proof: Array.from({ length: 129 }, () => receipt.leaf_hash) }, "at most 128"],
    ];
    for (const [value, words] of cases) expect(check(value), words).toMatchObject({ ok: false, code: "receipt_invalid", reason: expect.stringContaining(words) });
    expect(check(receipt, undefined, [])).toMatchObject({ ok: false, code: "key_invalid" });
    expect(check(receipt, undefined, { ...jwk, d: "AAAA" })).toMatchObject({ ok: false, code: "key_invalid" });
  });
});

describe("verifyConsistencyProof", () => {
  const check = (body: unknown, previousCheckpoint?: string, publicKeyJwk: unknown = jwk) =>
    verifyConsistencyProof(body, { publicKeyJwk, ...(previousCheckpoint === undefined ? {} : { previousCheckpoint }) });

  it("accepts honest proofs between every pair of sizes, from a held checkpoint or the server's copy", () => {
    for (let oldSize = 1; oldSize <= 21; oldSize++) {
      for (const newSize of [oldSize, 16, 17, 21].filter((n) => n >= oldSize)) {
        expect(check(log.consistency(oldSize, newSize)), `${oldSize} → ${newSize}`).toMatchObject({ ok: true, oldSize, newSize, held: false });
      }
    }
    expect(check(log.consistency(8, 21), log.checkpointAt(8))).toEqual({
      ok: true, origin: ORIGIN, oldSize: 8, oldRoot: log.rootAt(8).toString("base64"), newSize: 21, newRoot: log.rootAt(21).toString("base64"),
      keys: [keyIdentity(key.name, key.publicKey)], held: true,
    });
  });

  it("refuses forged proofs: a changed, missing, extra or reordered hash, or none", () => {
    for (const oldSize of [8, 13]) {
      const body = log.consistency(oldSize, 21);
      const proof = body.proof;
      const forgeries: Record<string, string[]> = {
        changed: [flip(proof[0]!), ...proof.slice(1)],
        "last changed": [...proof.slice(0, -1), flip(proof.at(-1)!)],
        missing: proof.slice(0, -1),
        extra: [...proof, proof[0]!],
        reordered: [...proof].reverse(),
        empty: [],
        // The old root itself prepended, as a verifier that mishandles power-of-two sizes would expect.
        "old root prepended": [log.rootAt(oldSize).toString("base64"), ...proof],
      };
      for (const [name, forgery] of Object.entries(forgeries)) {
        expect(check({ ...body, proof: forgery }), `${oldSize}: ${name}`).toMatchObject({ ok: false, code: "consistency_failed" });
      }
    }
  });

  it("catches a rewritten history only against the checkpoint the auditor kept", () => {
    // The log rewrote leaf 5 and re-signed everything with its own key: the server's two checkpoints agree.
    const rewritten = fork.consistency(8, 21);
    expect(check(rewritten)).toMatchObject({ ok: true, held: false });
    expect(check(rewritten, log.checkpointAt(8))).toMatchObject({ ok: false, code: "fork" });
    // The honest old checkpoint with the rewritten new one: no proof links them.
    expect(check({ ...rewritten, old_checkpoint: log.checkpointAt(8) })).toMatchObject({ ok: false, code: "consistency_failed" });
    expect(check({ ...log.consistency(8, 21), new_checkpoint: fork.checkpointAt(21) })).toMatchObject({ ok: false, code: "consistency_failed" });
  });

  it("refuses checkpoints by another key, of other sizes than claimed, of two logs, going back, or forked at one size", () => {
    const body = log.consistency(8, 21);
    expect(check(forged.consistency(8, 21))).toMatchObject({ ok: false, code: "checkpoint_signature", reason: expect.stringContaining("new checkpoint") });
    expect(check({ ...body, old_checkpoint: forged.checkpointAt(8) })).toMatchObject({ ok: false, code: "checkpoint_signature", reason: expect.stringContaining("old checkpoint") });
    expect(check({ ...body, old_size: 9 })).toMatchObject({ ok: false, code: "tree_mismatch" });
    const otherOrigin = signCheckpoint({ origin: "atomic.test/other", size: 8, root: log.rootAt(8) }, key);
    expect(check({ ...body, old_checkpoint: otherOrigin })).toMatchObject({ ok: false, code: "origin_mismatch" });
    expect(check({ ...log.consistency(8, 13), old_size: 13, new_size: 8, old_checkpoint: log.checkpointAt(13), new_checkpoint: log.checkpointAt(8) })).toMatchObject({ ok: false, code: "rollback" });
    expect(check({ ...log.consistency(13, 13), new_checkpoint: fork.checkpointAt(13) })).toMatchObject({ ok: false, code: "fork" });
    expect(check(body, log.checkpointAt(13))).toMatchObject({ ok: false, code: "checkpoint_mismatch", reason: expect.stringContaining("?from=13") });
    expect(check(body, forged.checkpointAt(8))).toMatchObject({ ok: false, code: "checkpoint_signature" });
  });

  it("refuses anything that is not exactly a consistency proof", () => {
    const body = log.consistency(8, 21);
    const cases: unknown[] = [null, { ...body, extra: true }, { ...body, object: "audit.receipt" }, { ...body, proof: "x" }, { ...body, proof: ["AAAA"] }, { ...body, old_size: -1 }];
    for (const value of cases) expect(check(value), JSON.stringify(value)?.slice(0, 60)).toMatchObject({ ok: false, code: "consistency_invalid" });
    expect(check(body, undefined, [])).toMatchObject({ ok: false, code: "key_invalid" });
  });
});

describe("node verify.mjs receipt | consistency", () => {
  const dir = mkdtempSync(join(tmpdir(), "atomic-proofs-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, content: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
    return path;
  };
  const keyPath = file("pub.jwk", jwk);

  it("prints one OK line naming the key and what was not compared, or the first failing step; exit 0, 1, 2", async () => {
    const receipt = file("receipt.json", log.receipt(5, 13));
    const held = file("held", log.checkpointAt(13));
    const ok = await runVerifierCli(["receipt", receipt, "--key", keyPath]);
    expect(ok.exitCode).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`^OK: event ${syntheticEvent(5).id} \\(config\\.loaded\\) is entry 5 of origin atomic\\.test/proofs, in the tree of 13 leaves, root \\S+; key atomic\\.proofs id [0-9a-f]{8} sha256:[0-9a-f]{64}; NOT compared with a checkpoint you kept`));
    expect(await runVerifierCli(["receipt", receipt, "--key", keyPath, "--checkpoint", held])).toMatchObject({ exitCode: 0, stdout: expect.stringMatching(/; the tree of the checkpoint you hold$/) });
    const altered = file("altered.json", { ...log.receipt(5, 13), leaf: log.receipt(5, 13).leaf.replace('"kind":"config.loaded"', '"kind":"model.loaded"') });
    expect(await runVerifierCli(["receipt", altered, "--key", keyPath])).toMatchObject({ exitCode: 1, stdout: expect.stringMatching(/^FAILED: leaf_hash_mismatch: /) });
    expect(await runVerifierCli(["receipt", file("not-json", "{"), "--key", keyPath])).toMatchObject({ exitCode: 1, stdout: expect.stringMatching(/^FAILED: receipt_invalid: /) });

    const proof = file("consistency.json", log.consistency(8, 21));
    const previous = file("previous", log.checkpointAt(8));
    expect(await runVerifierCli(["consistency", proof, "--key", keyPath])).toMatchObject({ exitCode: 0, stdout: expect.stringContaining("NOT checked against a checkpoint you kept") });
    expect(await runVerifierCli(["consistency", proof, "--key", keyPath, "--require-previous"])).toMatchObject({ exitCode: 1, stdout: expect.stringMatching(/^FAILED: previous_missing: /) });
    expect(await runVerifierCli(["consistency", proof, "--key", keyPath, "--previous", previous, "--require-previous"])).toMatchObject({ exitCode: 0, stdout: expect.stringMatching(/extends the tree of 8 .*; from the checkpoint you hold$/) });
    const rewritten = file("rewritten.json", fork.consistency(8, 21));
    expect(await runVerifierCli(["consistency", rewritten, "--key", keyPath, "--previous", previous])).toMatchObject({ exitCode: 1, stdout: expect.stringMatching(/^FAILED: fork: /) });

    for (const argv of [["receipt", receipt], ["receipt", receipt, "--key", keyPath, "--previous", held], ["consistency", proof, "--key", keyPath, "--checkpoint", held], ["receipt", receipt, "extra", "--key", keyPath]]) {
      expect((await runVerifierCli(argv)).exitCode, argv.join(" ")).toBe(2);
    }
    expect(await runVerifierCli(["receipt", join(dir, "none.json"), "--key", keyPath])).toMatchObject({ exitCode: 2, stderr: expect.stringContaining("cannot read the receipt") });
  });

  it("bounds what it reads and parses: a file larger than any receipt, proof or checkpoint, a receipt nested or wide beyond one", async () => {
    const receipt = file("bounded-receipt.json", log.receipt(5, 13));
    const huge = file("huge", Buffer.alloc(20 * 1024 * 1024, 0x20).toString());
    expect(await runVerifierCli(["receipt", huge, "--key", keyPath])).toMatchObject({ exitCode: 2, stderr: expect.stringMatching(/^cannot use the receipt .*: it is 20971520 bytes, more than the \d+ that any can be$/) });
    expect(await runVerifierCli(["consistency", huge, "--key", keyPath])).toMatchObject({ exitCode: 2, stderr: expect.stringContaining("cannot use the consistency proof") });
    expect(await runVerifierCli(["receipt", receipt, "--key", keyPath, "--checkpoint", huge])).toMatchObject({ exitCode: 2, stderr: expect.stringContaining("cannot use the checkpoint") });
    expect(await runVerifierCli(["key", huge])).toMatchObject({ exitCode: 2, stderr: expect.stringContaining("cannot use the key file") });
    const deep = file("deep.json", `${"[".repeat(4_000_000)}${"]".repeat(4_000_000)}`);
    expect(await runVerifierCli(["receipt", deep, "--key", keyPath])).toMatchObject({ exitCode: 1, stdout: expect.stringMatching(/^FAILED: receipt_invalid: the receipt nests arrays and objects deeper than 8 levels/) });
    const wide = file("wide.json", JSON.stringify({ ...log.consistency(8, 21), proof: Array.from({ length: 20_000 }, () => "") }));
    expect(await runVerifierCli(["consistency", wide, "--key", keyPath])).toMatchObject({ exitCode: 1, stdout: expect.stringMatching(/^FAILED: consistency_invalid: the consistency proof holds more than 10000 /) });
    // The leaf inside a receipt is bounded as an export's leaves are.
    const deepLeaf = `{"event":{"detail":{"x":${"[".repeat(200_000)}${"]".repeat(200_000)}},"id":"x","kind":"k","time":"2025-01-01T00:00:00.000Z","v":1},"index":5,"prev":"${"0".repeat(64)}"}`;
    expect(verifyReceipt({ ...log.receipt(5, 13), leaf: deepLeaf }, { publicKeyJwk: jwk })).toMatchObject({ ok: false, code: "entry_malformed", reason: expect.stringContaining("deeper than 100000 levels") });
  });
});
