import type { KeyObject } from "node:crypto";
import { createPrivateKey, createPublicKey, generateKeyPairSync } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { checkKeyName, rawEd25519PublicKey } from "./checkpoint.js";

/**
 * The log's Ed25519 signing key. It lives in a file (PKCS#8 PEM, mode 0600), never in the database; its public half
 * is handed to auditors as a JWK (RFC 8037: {"kty":"OKP","crv":"Ed25519","x":..., "kid": <note key name>}).
 *
 * CONTRACT (implemented by the audit-core work; signatures are fixed):
 */

export interface SigningKey {
  /** The signed-note key name, e.g. "atomic.example-hospital" — also the JWK "kid". */
  name: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export const SIGNING_KEY_FILE = "audit-signing.pem";
export const PUBLIC_JWK_FILE = "audit-signing.pub.jwk";

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** Writes <dir>/audit-signing.pem (0600) and <dir>/audit-signing.pub.jwk; refuses to overwrite. */
export function generateSigningKey(dir: string, name: string): SigningKey {
  checkKeyName(name);
  const pemPath = join(dir, SIGNING_KEY_FILE);
  const jwkPath = join(dir, PUBLIC_JWK_FILE);
  // Refuse before writing anything, so a refusal never leaves half a key pair behind.
  for (const path of [pemPath, jwkPath]) {
    if (existsSync(path)) throw new Error(`${path} already exists; refusing to overwrite a signing key`);
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const pem = privateKey.export({ format: "pem", type: "pkcs8" });
  const key: SigningKey = { name, privateKey, publicKey };
  // "wx": fails if the file appeared meanwhile; the mode is applied at creation, so the key is never readable by others.
  writeFileSync(pemPath, pem, { mode: 0o600, flag: "wx" });
  writeFileSync(jwkPath, `${JSON.stringify(publicJwk(key), null, 2)}\n`, { mode: 0o644, flag: "wx" });
  return key;
}

/** Loads the PEM; refuses a file readable by group or others (the message says which mode it has). */
export function loadSigningKey(pemPath: string, name: string): SigningKey {
  checkKeyName(name);
  const mode = statSync(pemPath).mode;
  if ((mode & 0o077) !== 0) {
    throw new Error(`signing key ${pemPath} is accessible by group or others (mode ${(mode & 0o777).toString(8).padStart(4, "0")}); chmod 600 it`);
  }
  const privateKey = createPrivateKey({ key: readFileSync(pemPath), format: "pem" });
  if (privateKey.asymmetricKeyType !== "ed25519") {
    throw new Error(`signing key ${pemPath} is ${privateKey.asymmetricKeyType ?? "not an asymmetric key"}, expected Ed25519`);
  }
  return { name, privateKey, publicKey: createPublicKey(privateKey) };
}

export function publicJwk(key: SigningKey): Record<string, string> {
  checkKeyName(key.name);
  const x = rawEd25519PublicKey(key.publicKey).toString("base64url");
  return { kty: "OKP", crv: "Ed25519", x, kid: key.name, alg: "EdDSA", use: "sig" };
}

/** Loads an auditor's copy of the public key; the JWK's kid is the note key name. */
export function publicKeyFromJwk(jwk: unknown): { name: string; publicKey: KeyObject } {
  if (typeof jwk !== "object" || jwk === null || Array.isArray(jwk)) throw new TypeError("public key: not a JWK object");
  const fields = jwk as Record<string, unknown>;
  if (Object.hasOwn(fields, "d")) throw new TypeError("public key: the JWK holds a private key (\"d\"); hand auditors the public half only");
  if (fields["kty"] !== "OKP") throw new TypeError(`public key: kty ${JSON.stringify(fields["kty"])} is not "OKP"`);
  if (fields["crv"] !== "Ed25519") throw new TypeError(`public key: crv ${JSON.stringify(fields["crv"])} is not "Ed25519"`);
  if (fields["alg"] !== undefined && fields["alg"] !== "EdDSA") throw new TypeError(`public key: alg ${JSON.stringify(fields["alg"])} is not "EdDSA"`);
  if (fields["use"] !== undefined && fields["use"] !== "sig") throw new TypeError(`public key: use ${JSON.stringify(fields["use"])} is not "sig"`);
  const x = fields["x"];
  if (typeof x !== "string" || !BASE64URL.test(x)) throw new TypeError("public key: x is not base64url");
  const raw = Buffer.from(x, "base64url");
  if (raw.length !== 32 || raw.toString("base64url") !== x) throw new TypeError("public key: x is not the base64url of 32 bytes");
  const name = fields["kid"];
  if (typeof name !== "string") throw new TypeError("public key: the JWK has no kid (the log's note key name)");
  try {
    checkKeyName(name);
  } catch (error) {
    throw new TypeError(`public key: kid ${(error as Error).message}`);
  }
  const publicKey = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x }, format: "jwk" });
  return { name, publicKey };
}
