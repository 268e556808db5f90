import { describe, expect, it } from "vitest";
import { apiKeyId, generateApiKey, hashApiKey, looksLikeApiKey } from "./api-key.js";

describe("API keys", () => {
  it("are unique, carry their id, and are stored as the SHA-256 of the whole key", () => {
    const keys = Array.from({ length: 200 }, generateApiKey);
    expect(new Set(keys.map((k) => k.key)).size).toBe(200);
    for (const { id, key, hash } of keys) {
      expect(key).toMatch(/^atk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
      expect(apiKeyId(key)).toBe(id);
      expect(hashApiKey(key).equals(hash)).toBe(true);
      expect(looksLikeApiKey(key)).toBe(true);
    }
  });

  it("yield no id when malformed, so nothing is looked up for them", () => {
    const { key } = generateApiKey();
    for (const bad of [key.slice(0, -1), `${key}x`, key.replace("atk_", "atx_"), key.toUpperCase(), `atk_${"g".repeat(16)}_${"a".repeat(43)}`, ""]) {
      expect(apiKeyId(bad)).toBeNull();
    }
  });

  it("hash differently when one character of the secret differs", () => {
    const { key } = generateApiKey();
    const flipped = key.slice(0, -1) + (key.endsWith("A") ? "B" : "A");
    expect(hashApiKey(flipped).equals(hashApiKey(key))).toBe(false);
  });
});
