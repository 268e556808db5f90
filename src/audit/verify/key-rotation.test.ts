import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { AuditEvent } from "../core/entry.js";
import { signHandover } from "../core/handover.js";
import { keyIdentity } from "../core/key-identity.js";
import { publicJwk, type SigningKey } from "../core/keys.js";
import { runVerifierCli, verdictLine } from "./cli-main.js";
import { verifyConsistencyProof } from "./consistency-proof.js";
import { verifyReceipt } from "./receipt.js";
import { SyntheticLog, syntheticEvent } from "./testing/export-fixture.js";
import { memorySource, verifyExportSource } from "./verify-export.js";

/**
 * A log whose key rotated twice: key A signs the trees of up to 30 leaves, the key.rotated leaf 30 hands the log to
 * B, which signs up to 45, and leaf 45 hands it to C. Whoever obtained A after its rotation (the reason one rotates)
 * signs trees of their own with it: the verifier must refuse those, and still verify the log's own history.
 */
const ORIGIN = "atomic.test/rotation";
const newKey = (): SigningKey => ({ name: "atomic.rotation", ...generateKeyPairSync("ed25519") });
const [a, b, c] = [newKey(), newKey(), newKey()];
const x = (key: SigningKey) => publicJwk(key)["x"] as string;
const id = (key: SigningKey) => keyIdentity(key.name, key.publicKey).keyId;
const jwks = (...keys: SigningKey[]) => keys.map((key) => publicJwk(key));

/** The key.rotated leaf as `atomic keys rotate` queues it; `signer` makes the handover (the retiring key's, when honest). */
function rotationEvent(i: number, previous: SigningKey, next: SigningKey, signer: SigningKey = previous): AuditEvent {
  const { v, id: eventId, time } = syntheticEvent(i);
  return { v, id: eventId, time, kind: "key.rotated", detail: { previousKey: x(previous), nextKey: x(next), handover: signHandover(ORIGIN, x(next), signer.privateKey) } };
}

const genuineEvent = (i: number) => (i === 30 ? rotationEvent(i, a, b) : i === 45 ? rotationEvent(i, b, c) : syntheticEvent(i));
const genuine = SyntheticLog.build(a, ORIGIN, 60, genuineEvent);
genuine.keyAt = (size) => (size <= 30 ? a : size <= 45 ? b : c);

/** Forged with A after its rotation: the log's first 30 leaves, then leaves of the forger's own, no rotation. */
const forged = SyntheticLog.build(a, ORIGIN, 50, (i) => (i < 30 ? syntheticEvent(i) : syntheticEvent(i, "forged")));
/** Forged with A, keeping the log's leaves up to 40: its rotation leaf among them. */
const forgedAfter = SyntheticLog.build(a, ORIGIN, 50, (i) => (i <= 40 ? genuineEvent(i) : syntheticEvent(i, "forged")));

const verify = async (log: SyntheticLog, keys: SigningKey[], options: { from?: number; to?: number; previous?: string; previousSize?: number; retired?: string[] } = {}) => {
  const files = await log.exportFiles({ ...(options.from === undefined ? {} : { from: options.from }), ...(options.to === undefined ? {} : { to: options.to }), ...(options.previousSize === undefined ? {} : { previousSize: options.previousSize }) });
  return verifyExportSource(
    memorySource(files),
    { publicKeyJwk: jwks(...keys), ...(options.retired === undefined ? {} : { retired: options.retired }), ...(options.previous === undefined ? {} : { previousCheckpoint: options.previous }) },
    "never",
  );
};

describe("exports of a log whose key rotated", () => {
  it("verifies the log's own history with two rotations from index 0, every key given and no --retired, and says where each key was retired", async () => {
    const verdict = await verify(genuine, [a, b, c]);
    expect(verdict).toMatchObject({ ok: true, from: 0, to: 60, retirements: [{ key: { keyId: id(a) }, index: 30 }, { key: { keyId: id(b) }, index: 45 }] });
    expect(verdictLine(verdict)).toContain(`; key ${id(a)} retired by the key.rotated leaf at index 30 (later trees without that leaf: --retired ${id(a)}@30); key ${id(b)} retired by the key.rotated leaf at index 45`);
    // Against checkpoints the auditor kept, each signed by the key of its day.
    for (const size of [20, 30, 31, 40, 45, 46, 60]) {
      expect(await verify(genuine, [a, b, c], { previous: genuine.checkpointAt(size) }), `previous ${size}`).toMatchObject({ ok: true, consistency: { oldSize: size } });
    }
    // Events queued before the rotation leaf are sequenced after the restart: the new key signs trees without the leaf.
    const backlog = SyntheticLog.build(a, ORIGIN, 40, genuineEvent);
    backlog.keyAt = (size) => (size <= 20 ? a : b);
    expect(await verify(backlog, [a, b], { previous: backlog.checkpointAt(25) })).toMatchObject({ ok: true, to: 40, consistency: { oldSize: 25 } });
    // One rotation: a log of 40 leaves, with the two keys it involves.
    const once = SyntheticLog.build(a, ORIGIN, 40, genuineEvent);
    once.keyAt = (size) => (size <= 30 ? a : b);
    expect(await verify(once, [a, b])).toMatchObject({ ok: true, to: 40, retirements: [{ key: { keyId: id(a) }, index: 30 }] });
    expect(await verify(once, [a, b], { from: 30, previousSize: 20, previous: once.checkpointAt(20) })).toMatchObject({ ok: true, consistency: { oldSize: 20 } });
  });

  it("needs --retired for a key whose rotation leaf is not in the export, as the earlier verdict printed it", async () => {
    const later = { from: 35, previousSize: 30, previous: genuine.checkpointAt(30) };
    expect(await verify(genuine, [a, b, c], later)).toMatchObject({ ok: false, code: "key_unbounded", reason: expect.stringContaining("--retired KEYID@INDEX") });
    expect(await verify(genuine, [a, b, c], { ...later, retired: [`${id(a)}@30`] })).toMatchObject({ ok: true, from: 35, to: 60, consistency: { oldSize: 30, against: "previous-checkpoint" } });
    // The same export before the rotation: the retired key's tree, within its bound.
    expect(await verify(genuine, [a, b, c], { to: 30 })).toMatchObject({ ok: false, code: "key_unbounded" });
    expect(await verify(genuine, [a, b, c], { to: 30, retired: [`${id(a)}@30`, `${id(b)}@45`] })).toMatchObject({ ok: true, to: 30 });
  });

  it("refuses a checkpoint signed by the retired key for a tree past its rotation, naming the key and the rotation leaf", async () => {
    // Without the rotation leaf and without --retired, A and B are both candidates for the current key.
    expect(await verify(forged, [a, b])).toMatchObject({ ok: false, code: "key_unbounded" });
    const stated = await verify(forged, [a, b], { retired: [`${id(a)}@30`] });
    expect(stated).toMatchObject({ ok: false, code: "key_retired", file: "checkpoint" });
    expect(!stated.ok && stated.reason).toBe(
      `the checkpoint of 50 leaves is signed by key ${a.name} id ${id(a)} ${keyIdentity(a.name, a.publicKey).fingerprint}, but you gave it as retired at leaf 30 (--retired): ` +
        "it signs trees of at most 30 leaves, and a later one is what a holder of the retired key would sign",
    );
    // The export shows the rotation leaf: the log itself bounds A, no --retired needed.
    const shown = await verify(forgedAfter, [a, b]);
    expect(shown).toMatchObject({ ok: false, code: "key_retired", reason: expect.stringContaining("the key.rotated leaf at index 30 retired it") });
    // An export that starts after the rotation, linked to the checkpoint the auditor kept before it.
    expect(await verify(forged, [a, b], { from: 35, previousSize: 30, previous: genuine.checkpointAt(30), retired: [`${id(a)}@30`] })).toMatchObject({ ok: false, code: "key_retired" });
    // A previous checkpoint of A's past its rotation is refused alike.
    expect(await verify(genuine, [a, b, c], { previous: forged.checkpointAt(40) })).toMatchObject({
      ok: false,
      code: "key_retired",
      reason: expect.stringMatching(/^the previous checkpoint of 40 leaves is signed by key .* the key\.rotated leaf at index 30 retired it/),
    });
  });

  it("lets the retired key sign the tree of exactly 30 leaves, and refuses the 31 that first holds its rotation leaf", async () => {
    const upTo = (size: number) => SyntheticLog.build(a, ORIGIN, size, genuineEvent);
    expect(await verify(upTo(30), [a, b], { retired: [`${id(a)}@30`] })).toMatchObject({ ok: true });
    expect(await verify(upTo(31), [a, b])).toMatchObject({ ok: false, code: "key_retired", reason: expect.stringContaining("the checkpoint of 31 leaves") });
    expect(await verify(upTo(31), [a, b], { retired: [`${id(a)}@31`] })).toMatchObject({ ok: false, code: "key_retired" });
  });

  it("refuses key.rotated leaves that are no chain of handovers, and a signer other than the key they hand the log to", async () => {
    const badHandover = SyntheticLog.build(a, ORIGIN, 40, (i) => (i === 30 ? rotationEvent(i, a, b, b) : syntheticEvent(i)));
    badHandover.keyAt = (size) => (size <= 30 ? a : b);
    expect(await verify(badHandover, [a, b])).toMatchObject({ ok: false, code: "rotation_invalid", index: 30, reason: expect.stringContaining("handover is not a signature by the key it retires") });
    // A copy of the log's own B→C rotation, in a tree signed by A: B looks retired and A the only key left without a
    // bound, but the leaf hands the log to C, which must then be given, and is unbounded too.
    const copied = SyntheticLog.build(a, ORIGIN, 50, (i) => (i === 40 ? rotationEvent(45, b, c) : i < 30 ? syntheticEvent(i) : syntheticEvent(i, "forged")));
    expect(await verify(copied, [a, b])).toMatchObject({ ok: false, code: "key_unbounded", reason: expect.stringContaining(`hands the log to key ${keyIdentity(c.name, c.publicKey).fingerprint}, which is not among the keys given`) });
    expect(await verify(copied, [a, b, c])).toMatchObject({ ok: false, code: "key_unbounded", reason: expect.stringContaining(`keys ${id(a)}, ${id(c)} are given without a bound`) });
    // ...followed by a handover to A made with a key of the forger's: it does not retire the key the log was handed to.
    const mine = newKey();
    const chained = SyntheticLog.build(a, ORIGIN, 50, (i) => (i === 40 ? rotationEvent(45, b, c) : i === 44 ? rotationEvent(i, mine, a) : i < 30 ? syntheticEvent(i) : syntheticEvent(i, "forged")));
    expect(await verify(chained, [a, b])).toMatchObject({ ok: false, code: "rotation_invalid", index: 44, reason: expect.stringContaining("handed the log to") });
  });
});

describe("receipts of a log whose key rotated", () => {
  const check = (receipt: unknown, keys: SigningKey[], retired?: string[], heldCheckpoint?: string) =>
    verifyReceipt(receipt, { publicKeyJwk: jwks(...keys), ...(retired === undefined ? {} : { retired }), ...(heldCheckpoint === undefined ? {} : { heldCheckpoint }) });
  const bounds = [`${id(a)}@30`, `${id(b)}@45`];

  it("verifies the log's receipts with every key and where each was retired, and refuses to guess which key is current", () => {
    expect(check(genuine.receipt(10, 60), [a, b, c], bounds)).toMatchObject({ ok: true, treeSize: 60, key: { keyId: id(c) } });
    expect(check(genuine.receipt(10, 25), [a, b, c], bounds, genuine.checkpointAt(25))).toMatchObject({ ok: true, treeSize: 25, key: { keyId: id(a) }, held: true });
    expect(check(genuine.receipt(10, 60), [a, b, c])).toMatchObject({ ok: false, code: "key_unbounded" });
  });

  it("refuses a receipt in a tree the retired key signed past its rotation", () => {
    expect(check(forged.receipt(10, 50), [a, b], [`${id(a)}@30`])).toMatchObject({ ok: false, code: "key_retired", reason: expect.stringContaining("the receipt's checkpoint of 50 leaves") });
    // The rotation leaf's own receipt bounds the key it retires: no --retired needed to refuse A past it.
    expect(check(forgedAfter.receipt(30, 40), [a, b])).toMatchObject({ ok: false, code: "key_retired", reason: expect.stringContaining("the key.rotated leaf at index 30 retired it") });
    // ...and, in the log's tree, says where A was retired.
    const rotation = check(genuine.receipt(30, 31), [a, b]);
    expect(rotation).toMatchObject({ ok: true, kind: "key.rotated", key: { keyId: id(b) }, retirements: [{ key: { keyId: id(a) }, index: 30 }] });
    const badHandover = SyntheticLog.build(a, ORIGIN, 31, (i) => (i === 30 ? rotationEvent(i, a, b, b) : syntheticEvent(i)));
    badHandover.keyAt = (size) => (size <= 30 ? a : b);
    expect(check(badHandover.receipt(30, 31), [a, b])).toMatchObject({ ok: false, code: "rotation_invalid" });
  });
});

describe("consistency proofs of a log whose key rotated", () => {
  const check = (body: unknown, keys: SigningKey[], retired?: string[], previousCheckpoint?: string) =>
    verifyConsistencyProof(body, { publicKeyJwk: jwks(...keys), ...(retired === undefined ? {} : { retired }), ...(previousCheckpoint === undefined ? {} : { previousCheckpoint }) });
  const bounds = [`${id(a)}@30`, `${id(b)}@45`];

  it("links the log's checkpoints across both rotations given where each key was retired, and refuses to guess without", () => {
    expect(check(genuine.consistency(20, 60), [a, b, c], bounds, genuine.checkpointAt(20))).toMatchObject({ ok: true, oldSize: 20, newSize: 60, held: true, keys: [{ keyId: id(a) }, { keyId: id(c) }] });
    expect(check(genuine.consistency(20, 60), [a, b, c])).toMatchObject({ ok: false, code: "key_unbounded" });
  });

  it("refuses a new, old or held checkpoint that the retired key signed past its rotation", () => {
    expect(check(forged.consistency(20, 50), [a, b], [`${id(a)}@30`], genuine.checkpointAt(20))).toMatchObject({ ok: false, code: "key_retired", reason: expect.stringContaining("the new checkpoint of 50 leaves") });
    expect(check({ ...genuine.consistency(40, 60), old_checkpoint: forged.checkpointAt(40) }, [a, b, c], bounds)).toMatchObject({ ok: false, code: "key_retired", reason: expect.stringContaining("the old checkpoint of 40 leaves") });
    expect(check(genuine.consistency(40, 60), [a, b, c], bounds, forged.checkpointAt(40))).toMatchObject({ ok: false, code: "key_retired", reason: expect.stringContaining("the checkpoint you hold") });
  });
});

describe("node verify.mjs --retired", () => {
  const dir = mkdtempSync(join(tmpdir(), "atomic-rotation-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, content: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
    return path;
  };
  const keyArgs = [a, b, c].flatMap((key) => ["--key", file(`${id(key)}.jwk`, publicJwk(key))]);

  it("takes KEYID@INDEX for receipts and consistency proofs, and the OK line of a rotation's receipt gives it", async () => {
    const rotation = await runVerifierCli(["receipt", file("rotation.json", genuine.receipt(30, 31)), ...keyArgs.slice(0, 4)]);
    expect(rotation).toMatchObject({ exitCode: 0, stdout: expect.stringContaining(`; key ${id(a)} retired by the key.rotated leaf at index 30 (later trees without that leaf: --retired ${id(a)}@30)`) });
    const proof = file("consistency.json", forged.consistency(20, 50));
    expect(await runVerifierCli(["consistency", proof, ...keyArgs, "--retired", `${id(a)}@30`, "--retired", `${id(b)}@45`])).toMatchObject({ exitCode: 1, stdout: expect.stringMatching(/^FAILED: key_retired: the new checkpoint of 50 leaves/) });
    const honest = file("honest.json", genuine.consistency(20, 60));
    expect(await runVerifierCli(["consistency", honest, ...keyArgs, "--retired", `${id(a)}@30`, "--retired", `${id(b)}@45`])).toMatchObject({ exitCode: 0 });
    expect(await runVerifierCli(["consistency", honest, ...keyArgs, "--retired", `${id(a)}@30`, "--retired", `${id(a)}@31`])).toMatchObject({ exitCode: 1, stdout: expect.stringContaining("key_invalid") });
    expect(await runVerifierCli(["receipt", file("receipt.json", genuine.receipt(10, 60)), ...keyArgs, "--retired", `${id(a)}@x`])).toMatchObject({ exitCode: 2 });
  });
});
