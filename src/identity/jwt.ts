import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createLocalJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWTPayload } from "jose";
import { duplicateMember } from "./duplicate-members.js";
import { AuthenticationError } from "./errors.js";
import { API_KEY_SUBJECT_PREFIX, isScope, NAME_PATTERN, type Principal, type Scope } from "./principal.js";

export interface JwtVerifierOptions {
  jwks: JSONWebKeySet;
  issuer: string | string[];
  audience: string | string[];
  /** Only these `alg` values verify; pinned so that no header can pick a weaker one (HS256 with the public key). */
  algorithms: string[];
  /** The `typ` header every token must carry, e.g. "JWT" or "at+jwt" (RFC 9068). */
  typ: string;
  clockToleranceSec: number;
  /** Claim naming the tenant (a string). */
  tenantClaim: string;
  /** Claim with the scopes: a space-separated string (RFC 8693 `scope`) or an array of strings. */
  scopeClaim: string;
  /** Longer tokens are refused before any parsing. */
  maxTokenBytes: number;
  /** Tokens issued (`iat`) longer ago than this are refused, and tokens without `iat` too; absent: no limit. */
  maxTokenAgeSec?: number;
}

/**
 * Bearer JWTs checked against a JWKS read from a local file: nothing is fetched, so verification works offline
 * and no token can point the gateway at a key server. Expiry is mandatory; `nbf`, `iss`, `aud` and `typ` are
 * checked, an `iat` in the future is refused, and jose refuses unknown `crit` headers and unsecured (`alg: none`)
 * tokens. A header or payload with a duplicate member is refused before jose reads it.
 */
export class JwtVerifier {
  private readonly keys: ReturnType<typeof createLocalJWKSet>;

  constructor(private readonly options: JwtVerifierOptions) {
    this.keys = createLocalJWKSet(options.jwks);
  }

  async verify(token: string): Promise<Principal> {
    if (token.length > this.options.maxTokenBytes) {
      throw new AuthenticationError("credentials_invalid", `token of ${token.length} bytes exceeds ${this.options.maxTokenBytes}`);
    }
    refuseDuplicateMembers(token);
    const maxAge = this.options.maxTokenAgeSec;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.keys, {
        algorithms: this.options.algorithms,
        issuer: this.options.issuer,
        audience: this.options.audience,
        typ: this.options.typ,
        clockTolerance: this.options.clockToleranceSec,
        requiredClaims: maxAge === undefined ? ["exp", "sub"] : ["exp", "sub", "iat"],
        ...(maxAge === undefined ? {} : { maxTokenAge: maxAge }),
      }));
    } catch (error) {
      throw new AuthenticationError("credentials_invalid", error instanceof errors.JOSEError ? `${error.code}: ${error.message}` : "token is not a JWT");
    }
    // jose compares `iat` with the clock only when a maximum age is set; a token from the future is refused always.
    if (typeof payload.iat === "number" && payload.iat > Date.now() / 1000 + this.options.clockToleranceSec) {
      throw new AuthenticationError("credentials_invalid", "token `iat` is in the future beyond the clock tolerance");
    }
    return this.principal(payload, token);
  }

  private principal(payload: JWTPayload, token: string): Principal {
    const subject = payload.sub;
    const tenant = payload[this.options.tenantClaim];
    if (typeof subject !== "string" || !NAME_PATTERN.test(subject)) {
      throw new AuthenticationError("credentials_invalid", "token `sub` is not a plain name");
    }
    // Records, erasure by subject and the audit log tell callers apart by subject alone: a token must not pass as a key.
    if (subject.startsWith(API_KEY_SUBJECT_PREFIX)) {
      throw new AuthenticationError("credentials_invalid", `token \`sub\` may not begin with "${API_KEY_SUBJECT_PREFIX}", which names API keys`);
    }
    if (typeof tenant !== "string" || !NAME_PATTERN.test(tenant)) {
      throw new AuthenticationError("credentials_invalid", `token claim \`${this.options.tenantClaim}\` is missing or not a plain name`);
    }
    const id = typeof payload.jti === "string" ? `jti:${payload.jti}` : `jwt:${token}`;
    return {
      kind: "jwt",
      subject,
      tenant,
      scopes: scopesOf(payload[this.options.scopeClaim]),
      tokenIdHash: createHash("sha256").update(id).digest("hex").slice(0, 32),
    };
  }
}

/**
 * Refuses a token whose header or payload names a member twice (`{"alg":"none","alg":"EdDSA"}`): jose, like
 * JSON.parse, keeps the last one, while another reader of the same token may keep the first. Parts that do not
 * decode to JSON are left for jose to refuse.
 */
function refuseDuplicateMembers(token: string): void {
  const parts = token.split(".");
  if (parts.length !== 3) return;
  for (const [index, part] of ["header", "payload"].entries()) {
    const text = Buffer.from(parts[index]!, "base64url").toString("utf8");
    try {
      JSON.parse(text);
    } catch {
      return;
    }
    if (duplicateMember(text) !== undefined) throw new AuthenticationError("credentials_invalid", `token ${part} has a duplicate member`);
  }
}

/** Scopes Atomic does not know are ignored: an identity provider may issue tokens for several services. */
function scopesOf(claim: unknown): ReadonlySet<Scope> {
  const values = typeof claim === "string" ? claim.split(" ") : Array.isArray(claim) ? claim : [];
  return new Set(values.filter((value): value is Scope => typeof value === "string" && isScope(value)));
}

/**
 * The verification keys, read once from a file the site manages. Only public asymmetric keys are accepted: a
 * private or shared-secret key in this file would let whoever reads it mint tokens.
 */
export function loadJwksFile(path: string): JSONWebKeySet {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new Error(`JWKS file ${path} could not be read as JSON: ${(error as Error).message}`);
  }
  const keys = (parsed as { keys?: unknown }).keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new Error(`JWKS file ${path} has no "keys" array`);
  keys.forEach((key: unknown, i) => {
    const jwk = key as Record<string, unknown>;
    if (typeof key !== "object" || key === null) throw new Error(`JWKS file ${path}: keys[${i}] is not an object`);
    if (jwk["kty"] !== "OKP" && jwk["kty"] !== "EC" && jwk["kty"] !== "RSA") throw new Error(`JWKS file ${path}: keys[${i}] has kty ${String(jwk["kty"])}; only public OKP, EC or RSA keys verify tokens`);
    if ("d" in jwk) throw new Error(`JWKS file ${path}: keys[${i}] is a private key; give Atomic the public keys only`);
  });
  return parsed as JSONWebKeySet;
}
