import { randomBytes } from "node:crypto";
import { defaultPayloadConverter } from "@temporalio/client";
import { describe, expect, it } from "vitest";
import { ENCRYPTED_ENCODING, EncryptionCodec } from "./payload-codec.js";

const codec = new EncryptionCodec(randomBytes(32));
const secret = { prompt: "Write to maria.lopez@example.org about invoice 4711", tokens: [1, 2, 3] };

describe("EncryptionCodec", () => {
  it("round-trips payloads, and what it stores holds none of the plaintext", async () => {
    const payload = defaultPayloadConverter.toPayload(secret);
    const [sealed] = await codec.encode([payload]);
    expect(new TextDecoder().decode(sealed!.metadata!["encoding"]!)).toBe(ENCRYPTED_ENCODING);
    expect(Buffer.from(sealed!.data!).toString("latin1")).not.toContain("maria.lopez");
    const [opened] = await codec.decode([sealed!]);
    expect(defaultPayloadConverter.fromPayload(opened!)).toEqual(secret);
  });

  it("encrypts the same payload differently each time (a fresh IV)", async () => {
    const payload = defaultPayloadConverter.toPayload(secret);
    const [a] = await codec.encode([payload]);
    const [b] = await codec.encode([payload]);
    expect(Buffer.from(a!.data!).equals(Buffer.from(b!.data!))).toBe(false);
  });

  it("passes payloads written before encryption through unchanged", async () => {
    const plain = defaultPayloadConverter.toPayload(secret);
    expect(await codec.decode([plain])).toEqual([plain]);
  });

  it("refuses another key's payloads by name, and any altered byte", async () => {
    const [sealed] = await codec.encode([defaultPayloadConverter.toPayload(secret)]);
    await expect(new EncryptionCodec(randomBytes(32)).decode([sealed!])).rejects.toThrow(/encrypted under key [0-9a-f]{16}.*temporal-payload\.key/);
    for (const at of [0, 20, sealed!.data!.length - 1]) {
      const altered = Buffer.from(sealed!.data!);
      altered[at]! ^= 1;
      await expect(codec.decode([{ ...sealed!, data: new Uint8Array(altered) }])).rejects.toThrow();
    }
    expect(() => new EncryptionCodec(randomBytes(16))).toThrow(RangeError);
  });
});
