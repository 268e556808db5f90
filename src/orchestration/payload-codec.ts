import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import type { DataConverter } from "@temporalio/client";

type PayloadCodec = NonNullable<DataConverter["payloadCodecs"]>[number];
type Payload = Parameters<PayloadCodec["encode"]>[0][number];

/** The metadata encoding of an encrypted payload; any other payload passes through decode unchanged. */
export const ENCRYPTED_ENCODING = "binary/encrypted";
const IV_BYTES = 12;
const TAG_BYTES = 16;
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/**
 * Encrypts every payload Temporal stores — workflow inputs and results, activity arguments, queries, memos — with
 * AES-256-GCM under a key kept beside the audit keys (never in Temporal or the database): a task's prompts and
 * outputs then sit in Temporal's history (SQLite or PostgreSQL, kept until the namespace's retention ends) as
 * ciphertext. Every client and worker of a site must hold the same key file.
 *
 * Payloads written before encryption was on (no encrypted encoding) still decode, so running tasks survive the
 * change; an encrypted payload under another key is refused by name rather than misread.
 */
export class EncryptionCodec implements PayloadCodec {
  /** First 16 hex of SHA-256(key), in each payload's metadata. */
  readonly keyId: string;

  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new RangeError(`payload key: ${key.length} bytes, expected 32`);
    this.keyId = createHash("sha256").update(key).digest("hex").slice(0, 16);
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv("aes-256-gcm", this.key, iv);
      const sealed = Buffer.concat([iv, cipher.update(serialise(payload)), cipher.final(), cipher.getAuthTag()]);
      return { metadata: { encoding: utf8.encode(ENCRYPTED_ENCODING), "encryption-key-id": utf8.encode(this.keyId) }, data: sealed };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const encoding = payload.metadata?.["encoding"];
      if (encoding === undefined || encoding === null || fromUtf8.decode(encoding) !== ENCRYPTED_ENCODING) return payload;
      const keyId = payload.metadata?.["encryption-key-id"];
      const named = keyId ? fromUtf8.decode(keyId) : "(none)";
      if (named !== this.keyId) throw new Error(`payload encrypted under key ${named}, this process holds key ${this.keyId}: copy the site's temporal-payload.key here`);
      const sealed = Buffer.from(payload.data ?? new Uint8Array());
      if (sealed.length < IV_BYTES + TAG_BYTES) throw new Error("encrypted payload is truncated");
      const decipher = createDecipheriv("aes-256-gcm", this.key, sealed.subarray(0, IV_BYTES));
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      return deserialise(Buffer.concat([decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]));
    });
  }
}

/** A payload as JSON (metadata values and data base64): no protobuf dependency for a two-field message. */
function serialise(payload: Payload): Buffer {
  const metadata = Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString("base64")]));
  return Buffer.from(JSON.stringify({ metadata, data: Buffer.from(payload.data ?? new Uint8Array()).toString("base64") }), "utf8");
}

function deserialise(bytes: Buffer): Payload {
  const { metadata, data } = JSON.parse(bytes.toString("utf8")) as { metadata: Record<string, string>; data: string };
  return {
    metadata: Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, "base64"))])),
    data: new Uint8Array(Buffer.from(data, "base64")),
  };
}
