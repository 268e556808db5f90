import { createHash, randomBytes } from "node:crypto";

/**
 * Service API keys: `atk_<16 hex id>_<43 base64url secret>`. The id finds the stored row without a hash lookup;
 * the 256-bit secret makes a plain SHA-256 as strong as a slow password hash would be (there is nothing to
 * guess), so verification costs microseconds and the database only ever holds the hash.
 */
const API_KEY = /^atk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export interface GeneratedApiKey {
  id: string;
  /** Shown once to whoever created it; never stored. */
  key: string;
  hash: Buffer;
}

export function generateApiKey(): GeneratedApiKey {
  const id = randomBytes(8).toString("hex");
  const key = `atk_${id}_${randomBytes(32).toString("base64url")}`;
  return { id, key, hash: hashApiKey(key) };
}

export function looksLikeApiKey(token: string): boolean {
  return token.startsWith("atk_");
}

/** The id of a well-formed key, else null. */
export function apiKeyId(key: string): string | null {
  return API_KEY.exec(key)?.[1] ?? null;
}

export function hashApiKey(key: string): Buffer {
  return createHash("sha256").update(key, "utf8").digest();
}
