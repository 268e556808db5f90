import { createHmac, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportJWK, SignJWT, type JWK } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { AuthenticationError } from "./errors.js";
import { JwtVerifier, loadJwksFile, type JwtVerifierOptions } from "./jwt.js";

const ISSUER = "https://idp.hospital.internal";
const AUDIENCE = "atomic";
const NOW = () => Math.floor(Date.now() / 1000);

let edKeys: { privateKey: KeyObject; publicKey: KeyObject };
let ecKeys: { privateKey: KeyObject; publicKey: KeyObject };
let strangerKeys: { privateKey: KeyObject; publicKey: KeyObject };
let edJwk: JWK;
let verifier: JwtVerifier;

function options(overrides: Partial<JwtVerifierOptions> = {}): JwtVerifierOptions {
  return {
    jwks: { keys: [edJwk] },
    issuer: ISSUER,
    audience: AUDIENCE,
    algorithms: ["EdDSA", "ES256"],
    typ: "JWT",
    clockToleranceSec: 30,
    tenantClaim: "tenant",
    scopeClaim: "scope",
    maxTokenBytes: 8192,
    ...overrides,
  };
}

interface TokenSpec {
  claims?: Record<string, unknown>;
  header?: Record<string, unknown>;
  key?: KeyObject;
  alg?: string;
}

/** A well-formed token unless the spec changes one thing. */
async function token(spec: TokenSpec = {}): Promise<string> {
  const claims = { sub: "dr.house", tenant: "ward-7", scope: "infer tasks", ...spec.claims };
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: spec.alg ?? "EdDSA", typ: "JWT", kid: "ed-1", ...spec.header } as { alg: string });
  if (!("iat" in (spec.claims ?? {}))) jwt.setIssuedAt();
  if (!("iss" in (spec.claims ?? {}))) jwt.setIssuer(ISSUER);
  if (!("aud" in (spec.claims ?? {}))) jwt.setAudience(AUDIENCE);
  if (!("exp" in (spec.claims ?? {}))) jwt.setExpirationTime(NOW() + 300);
  return jwt.sign(spec.key ?? edKeys.privateKey);
}

function b64url(value: unknown): string {
  return Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");
}

async function refusal(tokenText: string, verifierUsed = verifier): Promise<AuthenticationError> {
  const error = await verifierUsed.verify(tokenText).then(() => null, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(AuthenticationError);
  return error as AuthenticationError;
}

beforeAll(async () => {
  edKeys = generateKeyPairSync("ed25519");
  ecKeys = generateKeyPairSync("ec", { namedCurve: "P-256" });
  strangerKeys = generateKeyPairSync("ed25519");
  edJwk = { ...(await exportJWK(edKeys.publicKey)), kid: "ed-1", alg: "EdDSA" };
  verifier = new JwtVerifier(options());
});

describe("JwtVerifier", () => {
  it("accepts a well-formed token and maps sub, tenant, known scopes and a hash of the token id", async () => {
    const principal = await verifier.verify(await token({ claims: { scope: "infer tasks billing:write", jti: "t-1" } }));
    expect(principal).toMatchObject({ kind: "jwt", subject: "dr.house", tenant: "ward-7" });
    expect([...principal.scopes].sort()).toEqual(["infer", "tasks"]);
    expect(principal.tokenIdHash).toMatch(/^[0-9a-f]{32}$/);
    expect((await verifier.verify(await token({ claims: { jti: "t-1" } }))).tokenIdHash).toBe(principal.tokenIdHash);
  });

  it("takes scopes as an array too, and ES256 when the JWKS holds the key", async () => {
    const ecJwk = { ...(await exportJWK(ecKeys.publicKey)), kid: "ec-1", alg: "ES256" };
    const both = new JwtVerifier(options({ jwks: { keys: [edJwk, ecJwk] } }));
    const principal = await both.verify(await token({ key: ecKeys.privateKey, alg: "ES256", header: { kid: "ec-1" }, claims: { scope: ["embed", "audit:read"] } }));
    expect([...principal.scopes].sort()).toEqual(["audit:read", "embed"]);
  });

  it("allows the configured clock skew and no more", async () => {
    expect((await verifier.verify(await token({ claims: { exp: NOW() - 10 } }))).subject).toBe("dr.house");
    await refusal(await token({ claims: { exp: NOW() - 60 } }));
    expect((await verifier.verify(await token({ claims: { nbf: NOW() + 10 } }))).subject).toBe("dr.house");
    await refusal(await token({ claims: { nbf: NOW() + 120 } }));
  });

  describe("refuses every token of the attack set", () => {
    const cases: Array<[string, () => Promise<string>]> = [
      ["alg none (unsecured)", async () => `${b64url({ alg: "none", typ: "JWT" })}.${b64url({ sub: "x", tenant: "ward-7", iss: ISSUER, aud: AUDIENCE, exp: NOW() + 300 })}.`],
      ["HS256 signed with the public key as the secret", async () => {
        const header = b64url({ alg: "HS256", typ: "JWT", kid: "ed-1" });
        const payload = b64url({ sub: "x", tenant: "ward-7", iss: ISSUER, aud: AUDIENCE, exp: NOW() + 300 });
        const secret = edKeys.publicKey.export({ format: "pem", type: "spki" });
        return `${header}.${payload}.${createHmac("sha256", secret).update(`${header}.${payload}`).digest("base64url")}`;
      }],
      ["signed by a key not in the JWKS", () => token({ key: strangerKeys.privateKey })],
      ["unknown kid", () => token({ header: { kid: "ed-2" } })],
      ["kid with path traversal", () => token({ header: { kid: "../../../../etc/passwd" } })],
      ["kid with SQL", () => token({ header: { kid: "' OR 1=1 --" } })],
      ["expired", () => token({ claims: { exp: NOW() - 3600 } })],
      ["not yet valid", () => token({ claims: { nbf: NOW() + 3600 } })],
      ["wrong audience", () => token({ claims: { aud: "another-service" } })],
      ["wrong issuer", () => token({ claims: { iss: "https://evil.example" } })],
      ["wrong typ", () => token({ header: { typ: "at+jwt+evil" } })],
      ["unknown crit header (signed correctly)", async () => {
        // jose will not sign an unknown critical header, so this one is signed by hand.
        const header = b64url({ alg: "EdDSA", typ: "JWT", kid: "ed-1", crit: ["x-deadline"], "x-deadline": 1 });
        const payload = b64url({ sub: "x", tenant: "ward-7", iss: ISSUER, aud: AUDIENCE, exp: NOW() + 300 });
        return `${header}.${payload}.${sign(null, Buffer.from(`${header}.${payload}`), edKeys.privateKey).toString("base64url")}`;
      }],
      ["no expiry", async () => {
        const jwt = new SignJWT({ sub: "x", tenant: "ward-7" }).setProtectedHeader({ alg: "EdDSA", typ: "JWT", kid: "ed-1" }).setIssuer(ISSUER).setAudience(AUDIENCE);
        return jwt.sign(edKeys.privateKey);
      }],
      ["no tenant claim", () => token({ claims: { tenant: undefined } })],
      ["tenant that is not a plain name", () => token({ claims: { tenant: "ward-7\n{\"admin\":true}" } })],
      ["subject that is not a plain name", () => token({ claims: { sub: "x y" } })],
      ["subject that names an API key (records could not tell the two callers apart)", () => token({ claims: { sub: "apikey:0123456789abcdef" } })],
      ["payload altered after signing", async () => {
        const [header, , signature] = (await token()).split(".");
        return `${header}.${b64url({ sub: "dr.house", tenant: "ward-8", iss: ISSUER, aud: AUDIENCE, exp: NOW() + 300 })}.${signature}`;
      }],
      ["oversized", () => token({ claims: { padding: "x".repeat(10_000) } })],
      ["not a JWT at all", async () => "definitely-not-a-token"],
    ];
    it.each(cases)("%s", async (_label, make) => {
      const error = await refusal(await make());
      expect(error.code).toBe("credentials_invalid");
      expect(error.reason.length).toBeGreaterThan(0);
    });
  });

  it("accepts the hand-signed form of the crit case without crit, so that case fails for crit alone", async () => {
    const header = b64url({ alg: "EdDSA", typ: "JWT", kid: "ed-1" });
    const payload = b64url({ sub: "x", tenant: "ward-7", iss: ISSUER, aud: AUDIENCE, exp: NOW() + 300 });
    const signed = `${header}.${payload}.${sign(null, Buffer.from(`${header}.${payload}`), edKeys.privateKey).toString("base64url")}`;
    expect((await verifier.verify(signed)).subject).toBe("x");
  });

  it("refuses an algorithm outside the pinned list even with a key for it", async () => {
    const ecJwk = { ...(await exportJWK(ecKeys.publicKey)), kid: "ec-1", alg: "ES256" };
    const edOnly = new JwtVerifier(options({ jwks: { keys: [edJwk, ecJwk] }, algorithms: ["EdDSA"] }));
    await refusal(await token({ key: ecKeys.privateKey, alg: "ES256", header: { kid: "ec-1" } }), edOnly);
  });

  it("refuses an iat in the future beyond the clock tolerance, and allows it within", async () => {
    expect((await verifier.verify(await token({ claims: { iat: NOW() + 10 } }))).subject).toBe("dr.house");
    const error = await refusal(await token({ claims: { iat: NOW() + 3600 } }));
    expect(error.reason).toContain("iat");
  });

  it("with maxTokenAgeSec, refuses a token issued too long ago and one without iat", async () => {
    const aged = new JwtVerifier(options({ maxTokenAgeSec: 600 }));
    expect((await aged.verify(await token({ claims: { iat: NOW() - 300 } }))).subject).toBe("dr.house");
    await refusal(await token({ claims: { iat: NOW() - 3600 } }), aged);
    const withoutIat = await new SignJWT({ sub: "x", tenant: "ward-7" }).setProtectedHeader({ alg: "EdDSA", typ: "JWT", kid: "ed-1" })
      .setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime(NOW() + 300).sign(edKeys.privateKey);
    expect((await verifier.verify(withoutIat)).subject).toBe("x");
    expect((await refusal(withoutIat, aged)).reason).toContain("iat");
  });

  describe("refuses a header or payload with a duplicate member, even signed by a trusted key", () => {
    const claims = () => `"iss":"${ISSUER}","aud":"${AUDIENCE}","exp":${NOW() + 300}`;
    /** Signed by hand from the exact JSON text: jose would never write a duplicate member. */
    const handSigned = (headerJson: string, payloadJson: string) => {
      const header = b64url(headerJson);
      const payload = b64url(payloadJson);
      return `${header}.${payload}.${sign(null, Buffer.from(`${header}.${payload}`), edKeys.privateKey).toString("base64url")}`;
    };
    const cases: Array<[string, () => string]> = [
      ["alg none, then EdDSA (the last one wins in JSON.parse)", () => handSigned('{"alg":"none","alg":"EdDSA","typ":"JWT","kid":"ed-1"}', `{"sub":"x","tenant":"ward-7",${claims()}}`)],
      ["kid twice", () => handSigned('{"alg":"EdDSA","typ":"JWT","kid":"ed-2","kid":"ed-1"}', `{"sub":"x","tenant":"ward-7",${claims()}}`)],
      ["tenant twice", () => handSigned('{"alg":"EdDSA","typ":"JWT","kid":"ed-1"}', `{"sub":"x","tenant":"ward-8","tenant":"ward-7",${claims()}}`)],
      ["sub twice, one written with an escape", () => handSigned('{"alg":"EdDSA","typ":"JWT","kid":"ed-1"}', `{"sub":"x","s\\u0075b":"y","tenant":"ward-7",${claims()}}`)],
      ["exp twice, whitespace around the key", () => handSigned('{"alg":"EdDSA","typ":"JWT","kid":"ed-1"}', `{"sub":"x","tenant":"ward-7",${claims()} , "exp" : 1}`)],
    ];
    it.each(cases)("%s", async (_label, make) => {
      const error = await refusal(make());
      expect(error.reason).toContain("duplicate");
    });

    it("accepts the same names at different levels, and a hand-signed token without duplicates", async () => {
      const nested = handSigned('{"alg":"EdDSA","typ":"JWT","kid":"ed-1"}', `{"sub":"x","tenant":"ward-7","ctx":{"sub":"y","tenant":["a","b"],"ctx":{"sub":"z"}},"list":[{"a":1},{"a":2}],"s":"\\"sub\\":",${claims()}}`);
      expect((await verifier.verify(nested)).subject).toBe("x");
    });
  });
});

describe("loadJwksFile", () => {
  const dir = mkdtempSync(join(tmpdir(), "atomic-jwks-"));
  const write = (name: string, content: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
    return path;
  };

  it("reads public keys", async () => {
    const path = write("ok.json", { keys: [await exportJWK(generateKeyPairSync("ed25519").publicKey)] });
    expect(loadJwksFile(path).keys).toHaveLength(1);
  });

  it("refuses private keys, shared secrets, empty sets and non-JSON, naming the file", async () => {
    const privateJwk = await exportJWK(generateKeyPairSync("ed25519").privateKey);
    expect(() => loadJwksFile(write("private.json", { keys: [privateJwk] }))).toThrow(/private\.json.*private key/);
    expect(() => loadJwksFile(write("oct.json", { keys: [{ kty: "oct", k: "c2VjcmV0" }] }))).toThrow(/oct\.json.*kty oct/);
    expect(() => loadJwksFile(write("empty.json", { keys: [] }))).toThrow(/empty\.json.*no "keys"/);
    expect(() => loadJwksFile(write("garbage.json", "{nope"))).toThrow(/garbage\.json.*JSON/);
  });
});
