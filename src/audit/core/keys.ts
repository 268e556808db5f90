import type { KeyObject } from "node:crypto";
import { createPrivateKey, createPublicKey, generateKeyPairSync } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { checkKeyName, noteKeyId, rawEd25519PublicKey, type NoteVerifier } from "./checkpoint.js";

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
/** Where rotated-out keys go, named by their note key id: exports of the log before a rotation still need them. */
export const RETIRED_KEYS_DIR = "retired";

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

export function publicJwk(key: Pick<SigningKey, "name" | "publicKey">): Record<string, string> {
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

/**
 * Retires the current key pair into <dir>/retired/ (audit-signing-<note key id>.pem, 0600, until its handover is
 * recorded and destroyRetiredPrivateKey removes it; and .pub.jwk, kept) and
 * generates a new one in its place under the same note key name. Refuses when there is no current key, or when
 * that key was already retired (nothing is moved then).
 */
export function rotateSigningKey(dir: string, name: string): { previous: SigningKey; next: SigningKey } {
  const pemPath = join(dir, SIGNING_KEY_FILE);
  if (!existsSync(pemPath)) throw new Error(`${pemPath} does not exist; there is no signing key to rotate`);
  const previous = loadSigningKey(pemPath, name);
  const retiredDir = join(dir, RETIRED_KEYS_DIR);
  const stem = `audit-signing-${noteKeyId(name, previous.publicKey).toString("hex")}`;
  const retiredPem = join(retiredDir, `${stem}.pem`);
  const retiredJwk = join(retiredDir, `${stem}.pub.jwk`);
  for (const path of [retiredPem, retiredJwk]) {
    if (existsSync(path)) throw new Error(`${path} already exists; refusing to overwrite a retired key`);
  }
  mkdirSync(retiredDir, { recursive: true, mode: 0o700 });
  // The retired JWK is written from the key itself, so it is right even if the public file beside the PEM was lost.
  writeFileSync(retiredJwk, `${JSON.stringify(publicJwk(previous), null, 2)}\n`, { mode: 0o644, flag: "wx" });
  renameSync(pemPath, retiredPem); // a rename keeps the PEM's 0600 mode: it is never readable by others
  rmSync(join(dir, PUBLIC_JWK_FILE), { force: true });
  return { previous, next: generateSigningKey(dir, name) };
}

/**
 * Deletes a retired key's private half once its handover is recorded: nothing signs with it again, and a key is
 * usually rotated because it may be known to someone else, who could sign checkpoints with it that any verifier
 * told to trust it would take. Its public JWK stays for the exports it signed.
 */
export function destroyRetiredPrivateKey(dir: string, retired: Pick<SigningKey, "name" | "publicKey">): void {
  rmSync(join(dir, RETIRED_KEYS_DIR, `audit-signing-${noteKeyId(retired.name, retired.publicKey).toString("hex")}.pem`), { force: true });
}

/** The public keys of every retired key of the log named `name` (none when nothing was ever rotated). */
export function loadRetiredPublicKeys(dir: string, name: string): NoteVerifier[] {
  const retiredDir = join(dir, RETIRED_KEYS_DIR);
  if (!existsSync(retiredDir)) return [];
  return readdirSync(retiredDir)
    .filter((file) => file.endsWith(".pub.jwk"))
    .sort()
    .map((file) => {
      const key = publicKeyFromJwk(JSON.parse(readFileSync(join(retiredDir, file), "utf8")));
      if (key.name !== name) throw new Error(`retired key ${file} is of key name ${JSON.stringify(key.name)}, not ${JSON.stringify(name)}`);
      return key;
    });
}
