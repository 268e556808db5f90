import { fingerprintOf } from "../../../src/audit/verify/rotation-leaf.js";

/** The log's public key as auditors and webhook receivers get it: the gateway's `<keyDir>/audit-signing.pub.jwk`. */
export interface PublicJwk {
  kty: "OKP";
  crv: "Ed25519";
  /** The raw 32-byte key, base64url. */
  x: string;
  /** The log's signed-note key name. */
  kid: string;
  alg?: "EdDSA";
  use?: "sig";
}

/**
 * A key the log no longer signs with, and where it was retired: `retiredAt` is the index of the `key.rotated` leaf
 * that retired it (what Atomic's verifier prints as `--retired KEYID@INDEX`), so it signs trees of at most that many
 * leaves. A checkpoint of a larger tree signed by it is refused (`key_retired`): it is what someone who obtained the
 * retired key would make.
 */
export interface RetiredKey {
  key: PublicJwk;
  retiredAt: number;
}

/**
 * The key, or all of the log's keys after a rotation (each signed what was made while it was current): the current
 * key as a PublicJwk, each retired one as a RetiredKey. At most one key may be given without a bound (it is taken for
 * the current key; two: `key_unbounded`), except that a receipt of the `key.rotated` event itself bounds the key it
 * retires. Webhook verification takes the same list but uses only the keys given without a bound (the gateway signs
 * each delivery with its current key when it sends it); a list of retired keys only is refused there (`key_invalid`).
 */
export type TrustedKeys = PublicJwk | RetiredKey | readonly (PublicJwk | RetiredKey)[];

/** How a key is named out of band (what `atomic keys` and the gateway's start log print), to compare before trusting it. */
export interface KeyIdentity {
  name: string;
  /** The 4-byte signed-note key id, hex: what each checkpoint signature line starts with. */
  keyId: string;
  /** `sha256:` and the hex SHA-256 of the raw public key. */
  fingerprint: string;
}

/**
 * TrustedKeys as Atomic's verifier takes them: the JWKs, and for each retired key "sha256:<fingerprint>@<index>"
 * (its `--retired`); or why they are not keys (key_invalid). A JWK that is not one is left to the verifier to refuse.
 */
export function verifierKeys(trusted: unknown): { jwks: unknown[]; retired: string[] } | { invalid: string } {
  const list: readonly unknown[] = Array.isArray(trusted) ? trusted : [trusted];
  const jwks: unknown[] = [];
  const retired: string[] = [];
  const bounds = new Map<string, number>();
  for (const [i, entry] of list.entries()) {
    if (typeof entry !== "object" || entry === null || Array.isArray(entry) || !Object.hasOwn(entry, "key")) {
      jwks.push(entry);
      continue;
    }
    const { key, retiredAt, ...rest } = entry as { key: unknown; retiredAt?: unknown };
    const unexpected = Object.keys(rest)[0];
    if (unexpected !== undefined) return { invalid: `key ${i + 1}: unexpected member ${JSON.stringify(unexpected)} (a retired key is { key, retiredAt })` };
    jwks.push(key);
    if (retiredAt === undefined) continue;
    if (typeof retiredAt !== "number" || !Number.isSafeInteger(retiredAt) || retiredAt < 0) {
      return { invalid: `key ${i + 1}: retiredAt ${JSON.stringify(retiredAt)} is not a non-negative integer (the index of the key.rotated leaf that retired the key)` };
    }
    const x = typeof key === "object" && key !== null ? (key as { x?: unknown }).x : undefined;
    if (typeof x !== "string") continue;
    const fingerprint = fingerprintOf(x);
    const earlier = bounds.get(fingerprint);
    if (earlier !== undefined) return { invalid: `key ${fingerprint} is given with retiredAt twice (${earlier} and ${retiredAt}): give each retired key once` };
    bounds.set(fingerprint, retiredAt);
    retired.push(`${fingerprint}@${retiredAt}`);
  }
  return { jwks, retired };
}
