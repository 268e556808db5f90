import { createHash, createHmac } from "node:crypto";
import { loadSecretKey } from "./key-files.js";
import { canonicalize } from "../util/canonical-json.js";

/**
 * Keyed hashes (HMAC-SHA256) of prompts and outputs for the audit log. The log proves *which* content was
 * processed without holding it: an auditor given the content and the key can check it, while the key stays out
 * of the log and the database, so erasing stored text never breaks a proof and a leaked log reveals nothing.
 */
export class ContentHasher {
  /** Names the key in every event, so records survive a key change: first 16 hex of SHA-256(key). */
  readonly keyId: string;

  constructor(private readonly key: Buffer) {
    this.keyId = createHash("sha256").update(key).digest("hex").slice(0, 16);
  }

  hash(value: unknown): string {
    return createHmac("sha256", this.key).update(typeof value === "string" ? value : canonicalize(value)).digest("hex");
  }

  /** Loads the key file, creating it (32 random bytes, mode 0600) on first use. */
  static fromFile(path: string): ContentHasher {
    const key = loadSecretKey(path, "content hash key");
    return new ContentHasher(key);
  }
}
