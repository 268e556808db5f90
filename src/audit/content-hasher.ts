import { createHash, createHmac, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
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
    if (!existsSync(path)) {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      writeFileSync(path, randomBytes(32), { mode: 0o600, flag: "wx" });
    }
    const { mode } = statSync(path);
    if ((mode & 0o077) !== 0) throw new Error(`content hash key ${path} is readable by others (mode ${(mode & 0o777).toString(8)}); chmod 600 it`);
    const key = readFileSync(path);
    if (key.length < 32) throw new Error(`content hash key ${path} holds ${key.length} bytes, expected 32`);
    return new ContentHasher(key);
  }
}
