import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { handoverText, signHandover, verifyHandover } from "./handover.js";

describe("key rotation handover", () => {
  const previous = generateKeyPairSync("ed25519");
  const other = generateKeyPairSync("ed25519");
  const nextX = "n".repeat(43);

  it("is the previous key's signature over the origin and the next key", () => {
    expect(handoverText("atomic.test/audit", nextX)).toBe(`atomic audit key rotation\natomic.test/audit\n${nextX}\n`);
    const handover = signHandover("atomic.test/audit", nextX, previous.privateKey);
    expect(verifyHandover("atomic.test/audit", nextX, handover, previous.publicKey)).toBe(true);
  });

  it("does not verify for another key, origin or next key, nor when malformed", () => {
    const handover = signHandover("atomic.test/audit", nextX, previous.privateKey);
    expect(verifyHandover("atomic.test/audit", nextX, handover, other.publicKey)).toBe(false);
    expect(verifyHandover("atomic.other/audit", nextX, handover, previous.publicKey)).toBe(false);
    expect(verifyHandover("atomic.test/audit", "m".repeat(43), handover, previous.publicKey)).toBe(false);
    expect(verifyHandover("atomic.test/audit", nextX, "not base64!", previous.publicKey)).toBe(false);
    expect(verifyHandover("atomic.test/audit", nextX, Buffer.alloc(63).toString("base64"), previous.publicKey)).toBe(false);
  });
});
