import { createHash, timingSafeEqual } from "node:crypto";
import type { ApiKeyStore } from "../store/interface.js";
import { apiKeyId, hashApiKey, looksLikeApiKey } from "./api-key.js";
import { AuthenticationError } from "./errors.js";
import type { JwtVerifier } from "./jwt.js";
import { API_KEY_SUBJECT_PREFIX, type Principal } from "./principal.js";

export interface AuthenticatorOptions {
  apiKeys: Pick<ApiKeyStore, "get">;
  /** Absent: JWTs are refused, only API keys authenticate. */
  jwt?: JwtVerifier;
  /**
   * How long a looked-up key row is reused before the database is asked again; this bounds how late a revocation
   * takes effect. Default 5000 ms; 0 asks every time.
   */
  keyCacheMs?: number;
}

interface CachedKey {
  row: { hash: Buffer; principal: Principal } | null;
  until: number;
}

// Bounds the cache against a flood of well-formed but unknown ids.
const MAX_CACHED_KEYS = 10_000;

/** Turns an Authorization header into a Principal, or throws AuthenticationError with the reason. */
export class Authenticator {
  private readonly keyCache = new Map<string, CachedKey>();
  private readonly keyCacheMs: number;
  /** Counts forget() calls: a lookup that was in flight across one may hold a row read before the revocation. */
  private forgotten = 0;

  constructor(private readonly options: AuthenticatorOptions) {
    this.keyCacheMs = options.keyCacheMs ?? 5000;
  }

  async authenticate(authorization: string | undefined): Promise<Principal> {
    if (authorization === undefined || authorization === "") throw new AuthenticationError("credentials_missing", "no Authorization header");
    const match = /^Bearer ([\x21-\x7e]+)$/i.exec(authorization);
    if (match === null) throw new AuthenticationError("credentials_invalid", "Authorization is not `Bearer <token>`");
    const token = match[1]!;
    if (looksLikeApiKey(token)) return this.apiKey(token);
    if (this.options.jwt === undefined) throw new AuthenticationError("credentials_invalid", "bearer token is not an API key and no JWKS is configured");
    return this.options.jwt.verify(token);
  }

  private async apiKey(key: string): Promise<Principal> {
    const id = apiKeyId(key);
    if (id === null) throw new AuthenticationError("credentials_invalid", "malformed API key");
    const row = await this.keyRow(id);
    // Compared in constant time even though the id matched: the hash is the secret part's only witness.
    if (row === null || !timingSafeEqual(row.hash, hashApiKey(key))) {
      throw new AuthenticationError("credentials_invalid", `API key ${id} is unknown, revoked or wrong`);
    }
    return row.principal;
  }

  /**
   * Drops what is cached about a key, so that its revocation holds on this gateway from the next request on;
   * other gateways see it once their cached lookup expires (keyCacheMs).
   */
  forget(id: string): void {
    this.forgotten += 1;
    this.keyCache.delete(id);
  }

  private async keyRow(id: string): Promise<CachedKey["row"]> {
    const now = Date.now();
    const cached = this.keyCache.get(id);
    if (cached !== undefined && cached.until > now) return cached.row;
    const forgotten = this.forgotten;
    const record = await this.options.apiKeys.get(id);
    const row =
      record === null || record.revokedAt !== null
        ? null
        : {
            hash: record.hash,
            principal: {
              kind: "api_key" as const,
              subject: `${API_KEY_SUBJECT_PREFIX}${record.id}`,
              tenant: record.tenant,
              scopes: new Set(record.scopes),
              tokenIdHash: createHash("sha256").update(`${API_KEY_SUBJECT_PREFIX}${record.id}`).digest("hex").slice(0, 32),
            },
          };
    if (this.keyCacheMs > 0 && forgotten === this.forgotten) {
      if (this.keyCache.size >= MAX_CACHED_KEYS) this.keyCache.clear();
      this.keyCache.set(id, { row, until: now + this.keyCacheMs });
    }
    return row;
  }
}
