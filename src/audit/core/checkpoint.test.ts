import { createPrivateKey, createPublicKey, generateKeyPairSync, sign } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  CheckpointError,
  formatCheckpoint,
  noteKeyId,
  parseUnverifiedCheckpoint,
  rawEd25519PublicKey,
  signCheckpoint,
  verifyCheckpoint,
  type Checkpoint,
} from "./checkpoint.js";

const { privateKey, publicKey } = generateKeyPairSync("ed25519");
const signer = { name: "atomic.test", privateKey };
const verifier = { name: "atomic.test", publicKey };
const root = Buffer.from("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328", "hex");
const checkpoint: Checkpoint = { origin: "atomic.example/log", size: 8, root };

function refusal(note: string, by = verifier): CheckpointError {
  try {
    verifyCheckpoint(note, by);
  } catch (error) {
    expect(error).toBeInstanceOf(CheckpointError);
    return error as CheckpointError;
  }
  throw new Error("the note verified");
}

describe("signed-note key ids (C2SP signed-note, as golang.org/x/mod/sumdb/note)", () => {
  // The Go package's test key: PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz
  const seed = Buffer.from("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz", "base64").subarray(1);
  const goKey = createPrivateKey({ key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]), format: "der", type: "pkcs8" });

  it("gives the Go test key its published id and signature line", () => {
    const pub = createPublicKey(goKey);
    // Its verifier key: PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW (0x01 = Ed25519, then the key).
    const vkey = Buffer.from("ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "base64");
    expect(vkey[0]).toBe(1);
    expect(rawEd25519PublicKey(pub).equals(vkey.subarray(1))).toBe(true);
    expect(noteKeyId("PeterNeumann", pub).toString("hex")).toBe("c74f20a3");
    expect(noteKeyId("PeterNeumann", goKey).toString("hex")).toBe("c74f20a3");
    const text = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
    const line = Buffer.concat([noteKeyId("PeterNeumann", pub), sign(null, Buffer.from(text), goKey)]).toString("base64");
    expect(line).toBe("x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=");
  });

  it("depends on the name and the key", () => {
    const other = generateKeyPairSync("ed25519").publicKey;
    expect(noteKeyId("atomic.test", publicKey).equals(noteKeyId("atomic.test2", publicKey))).toBe(false);
    expect(noteKeyId("atomic.test", publicKey).equals(noteKeyId("atomic.test", other))).toBe(false);
    expect(noteKeyId("atomic.test", publicKey).length).toBe(4);
    expect(() => noteKeyId("atomic test", publicKey)).toThrow(TypeError);
    expect(() => noteKeyId("atomic+test", publicKey)).toThrow(TypeError);
    expect(() => noteKeyId("", publicKey)).toThrow(TypeError);
    expect(() => noteKeyId("x", generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey)).toThrow(/Ed25519/);
  });
});

describe("formatCheckpoint / signCheckpoint", () => {
  it("writes origin, decimal size and base64 root, one per line", () => {
    expect(formatCheckpoint(checkpoint)).toBe("atomic.example/log\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n");
    expect(formatCheckpoint({ ...checkpoint, size: 0 })).toBe("atomic.example/log\n0\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n");
  });

  it("appends a blank line and one em-dash signature line", () => {
    const note = signCheckpoint(checkpoint, signer);
    const [body, block] = note.split("\n\n") as [string, string];
    expect(`${body}\n`).toBe(formatCheckpoint(checkpoint));
    expect(block.startsWith("\u2014 atomic.test ")).toBe(true);
    expect(block.endsWith("\n")).toBe(true);
    const bytes = Buffer.from(block.slice("\u2014 atomic.test ".length, -1), "base64");
    expect(bytes.length).toBe(68);
    expect(bytes.subarray(0, 4).equals(noteKeyId("atomic.test", publicKey))).toBe(true);
  });

  it("refuses what cannot be written as a checkpoint", () => {
    expect(() => formatCheckpoint({ ...checkpoint, origin: "" })).toThrow(/empty/);
    expect(() => formatCheckpoint({ ...checkpoint, origin: "a\nb" })).toThrow(/control/);
    expect(() => formatCheckpoint({ ...checkpoint, size: -1 })).toThrow(RangeError);
    expect(() => formatCheckpoint({ ...checkpoint, size: 1.5 })).toThrow(RangeError);
    expect(() => formatCheckpoint({ ...checkpoint, root: root.subarray(1) })).toThrow(RangeError);
    expect(() => signCheckpoint(checkpoint, { ...signer, name: "two words" })).toThrow(TypeError);
    expect(() => signCheckpoint(checkpoint, { name: "x", privateKey: generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey })).toThrow(/Ed25519/);
  });
});

describe("verifyCheckpoint", () => {
  const note = signCheckpoint(checkpoint, signer);

  it("returns the checkpoint of a note signed by the key", () => {
    const verified = verifyCheckpoint(note, verifier);
    expect(verified.origin).toBe(checkpoint.origin);
    expect(verified.size).toBe(8);
    expect(verified.root.equals(root)).toBe(true);
    expect(parseUnverifiedCheckpoint(note).size).toBe(8);
    const large = signCheckpoint({ ...checkpoint, size: Number.MAX_SAFE_INTEGER }, signer);
    expect(verifyCheckpoint(large, verifier).size).toBe(Number.MAX_SAFE_INTEGER);
  });

  it("ignores signatures by other keys, before or after", () => {
    const other = generateKeyPairSync("ed25519");
    const witness = signCheckpoint(checkpoint, { name: "witness.example", privateKey: other.privateKey }).split("\n\n")[1] as string;
    const [body, own] = note.split("\n\n") as [string, string];
    expect(verifyCheckpoint(`${body}\n\n${witness}${own}`, verifier).size).toBe(8);
    expect(verifyCheckpoint(`${body}\n\n${own}${witness}`, verifier).size).toBe(8);
    expect(verifyCheckpoint(`${body}\n\n${witness}${own}`, { name: "witness.example", publicKey: other.publicKey }).size).toBe(8);
  });

  it("refuses a note without a signature by the verifier's name and key id: unknown_key", () => {
    const other = generateKeyPairSync("ed25519");
    expect(refusal(note, { name: "atomic.other", publicKey }).code).toBe("unknown_key");
    // Same name, another key: another key id.
    expect(refusal(note, { name: "atomic.test", publicKey: other.publicKey }).code).toBe("unknown_key");
    expect(refusal(signCheckpoint(checkpoint, { name: "atomic.test", privateKey: other.privateKey })).code).toBe("unknown_key");
    expect(refusal(note, { name: "atomic.other", publicKey }).message).toContain("atomic.other");
  });

  it("refuses a changed body or signature: bad_signature", () => {
    const [body, block] = note.split("\n\n") as [string, string];
    expect(refusal(`${body.replace("\n8\n", "\n9\n")}\n\n${block}`).code).toBe("bad_signature");
    expect(refusal(`${body.replace("atomic.example/log", "atomic.example/lag")}\n\n${block}`).code).toBe("bad_signature");
    const bytes = Buffer.from(block.slice("\u2014 atomic.test ".length, -1), "base64");
    bytes[40] = (bytes[40] as number) ^ 1;
    expect(refusal(`${body}\n\n\u2014 atomic.test ${bytes.toString("base64")}\n`).code).toBe("bad_signature");
    // A signature of the wrong length under the right key id.
    expect(refusal(`${body}\n\n\u2014 atomic.test ${bytes.subarray(0, 40).toString("base64")}\n`).code).toBe("bad_signature");
  });

  it("refuses a wrong line structure: malformed", () => {
    const [body, block] = note.split("\n\n") as [string, string];
    const rootLine = "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=";
    const malformed = [
      body, // no signatures
      `${body}\n${block}`, // no blank line
      `${body}\n\n${block.slice(0, -1)}`, // no final newline
      `${body}\n\n${block}\n`, // a blank signature line
      `${body}\n\n${block.replace("\u2014 ", "- ")}`, // hyphen, not em dash
      `${body}\n\n${block.replace("\u2014 ", "\u2014")}`, // no space after the dash
      `${body}\n\n${block.replace("\u2014 atomic.test ", "\u2014 atomic.test  ")}`, // two spaces
      `${body}\n\n${block.replace(/=?\n$/, "!\n")}`, // not base64
      `${body}\n\n\u2014 atomic.test AAAA\n`, // too short for key id and signature
      `${body}\nextension\n\n${block}`, // four body lines
      `atomic.example/log\n8\n\n${block}`, // two body lines
      `\n8\n${rootLine}\n\n${block}`, // empty origin
      `atomic.example/log\n08\n${rootLine}\n\n${block}`, // leading zero
      `atomic.example/log\n-8\n${rootLine}\n\n${block}`,
      `atomic.example/log\n8.0\n${rootLine}\n\n${block}`,
      `atomic.example/log\n 8\n${rootLine}\n\n${block}`,
      `atomic.example/log\n\n${rootLine}\n\n${block}`,
      `atomic.example/log\n9007199254740992\n${rootLine}\n\n${block}`, // beyond 2^53 - 1
      `atomic.example/log\n8\n${rootLine.slice(0, -4)}\n\n${block}`, // root of 30 bytes
      `atomic.example/log\n8\n${Buffer.alloc(33).toString("base64")}\n\n${block}`,
      `atomic.example/log\n8\n${rootLine.replace("=", "")}\n\n${block}`, // unpadded
      `atomic.example/log\n8\n${rootLine.replace("yg=", "yh=")}\n\n${block}`, // non-canonical last character
      `atomic.example/log\n8\n${rootLine.replace(/\+/g, "-").replace(/\//g, "_")}\n\n${block}`, // base64url
      `atomic.example/log\r\n8\n${rootLine}\n\n${block}`, // a control character in the origin
    ];
    for (const text of malformed) expect(refusal(text).code, JSON.stringify(text)).toBe("malformed");
  });

  it("never verifies a note with any single bit flipped", () => {
    const bytes = Buffer.from(note, "utf8");
    let refused = 0;
    for (let bit = 0; bit < bytes.length * 8; bit++) {
      const flipped = Buffer.from(bytes);
      flipped[bit >> 3] = (flipped[bit >> 3] as number) ^ (1 << (bit & 7));
      expect(() => verifyCheckpoint(flipped.toString("utf8"), verifier)).toThrow(CheckpointError);
      refused++;
    }
    expect(refused).toBe(bytes.length * 8);
  });
});
