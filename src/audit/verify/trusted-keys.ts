import { isUtf8 } from "node:buffer";
import { CheckpointError, verifyCheckpoint, type Checkpoint, type NoteVerifier } from "../core/checkpoint.js";
import { rawEd25519PublicKey } from "../core/checkpoint.js";
import { keyIdentity, type KeyIdentity } from "../core/key-identity.js";
import { publicKeyFromJwk } from "../core/keys.js";

/**
 * The public keys an auditor hands a verifier, and signed checkpoints checked against them. Shared by the export,
 * receipt and consistency verifiers, so that every verdict can name the key that vouched for it.
 * Bundled into audit/verify.mjs: node built-ins and src/audit/core only.
 */

/** A key the auditor gave (one of several after a rotation), with how it is named out of band. */
export interface TrustedKey extends NoteVerifier {
  identity: KeyIdentity;
  /** The JWK's "x" (base64url of the raw key): how key.rotated leaves name it. */
  x: string;
  /** The auditor's word (--retired KEY@INDEX): the index of the key.rotated leaf that retired this key. */
  retiredAt?: number;
}

/**
 * Parses the JWKs and the auditor's statements of where retired keys were retired (`retired`, each "KEY@INDEX" as
 * parseRetiredStatement reads it); throws TypeError (the reason) when no key is given, one is not an Ed25519 public
 * JWK, or a statement names no key given, or one key twice.
 */
export function trustedKeys(jwks: unknown, retired: readonly string[] = []): TrustedKey[] {
  const list: readonly unknown[] = Array.isArray(jwks) ? jwks : [jwks];
  if (list.length === 0) throw new TypeError("no public key given");
  const keys: TrustedKey[] = list.map((jwk) => {
    const { name, publicKey } = publicKeyFromJwk(jwk);
    return { name, publicKey, identity: keyIdentity(name, publicKey), x: rawEd25519PublicKey(publicKey).toString("base64url") };
  });
  const stated = new Map<string, number>();
  for (const text of retired) {
    const statement = parseRetiredStatement(text);
    if (typeof statement === "string") throw new TypeError(statement);
    const named = keys.filter((key) => key.identity.keyId === statement.key || key.identity.fingerprint === statement.key);
    if (named.length === 0) throw new TypeError(`--retired ${text}: no key given with --key is ${statement.key}; give the retired key's JWK too`);
    const raw = new Set(named.map((key) => key.x));
    if (raw.size > 1) throw new TypeError(`--retired ${text}: several keys given have key id ${statement.key}; name the key by its sha256: fingerprint`);
    const x = named[0]!.x;
    if (stated.has(x)) throw new TypeError(`--retired ${text}: this key is already given as retired at ${stated.get(x)}`);
    stated.set(x, statement.index);
  }
  return keys.map((key) => (stated.has(key.x) ? { ...key, retiredAt: stated.get(key.x) as number } : key));
}

const RETIRED_STATEMENT = /^([0-9a-f]{8}|sha256:[0-9a-f]{64})@(0|[1-9][0-9]*)$/;

/**
 * Reads "KEY@INDEX" (`--retired`): KEY is a key's id (8 hex digits) or its sha256: fingerprint, INDEX the index of
 * the key.rotated leaf that retired it, so the largest tree it may have signed. Returns the reason when it is not.
 */
export function parseRetiredStatement(text: string): { key: string; index: number } | string {
  const match = RETIRED_STATEMENT.exec(text);
  const index = match === null ? Number.NaN : Number(match[2]);
  if (match === null || !Number.isSafeInteger(index)) {
    return `--retired ${JSON.stringify(text)} is not KEYID@INDEX: the retired key's id (8 hex digits, or its sha256: fingerprint) and the index of the key.rotated leaf that retired it, e.g. 1a2b3c4d@30`;
  }
  return { key: match[1] as string, index };
}

/** Why a signed checkpoint was refused: not a checkpoint at all, or signed by none of the keys given. */
export class NoteRefused extends Error {
  constructor(
    readonly code: "checkpoint_invalid" | "checkpoint_signature",
    message: string,
  ) {
    super(message);
  }
}

/**
 * Verifies a signed checkpoint with whichever key given signed it (a log whose key was rotated has checkpoints by
 * each), and says which. `what` names the checkpoint in the reason ("checkpoint", "the previous checkpoint").
 */
export function verifySignedCheckpoint(bytes: Uint8Array, keys: readonly TrustedKey[], what: string): { checkpoint: Checkpoint; key: TrustedKey } {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!isUtf8(buffer)) throw new NoteRefused("checkpoint_invalid", `${what} is not UTF-8`);
  const text = buffer.toString("utf8");
  const refusals: CheckpointError[] = [];
  for (const key of keys) {
    try {
      return { checkpoint: verifyCheckpoint(text, key), key };
    } catch (error) {
      if (!(error instanceof CheckpointError)) throw error;
      if (error.code === "malformed") throw new NoteRefused("checkpoint_invalid", `${what}: ${error.message}`);
      refusals.push(error);
    }
  }
  // A signature line that does not verify says more than the absence of one by the other keys.
  const reported = refusals.filter((refusal) => refusal.code === "bad_signature");
  throw new NoteRefused("checkpoint_signature", `${what}: ${(reported.length > 0 ? reported : refusals).map((refusal) => refusal.message).join("; ")}`);
}

/** The distinct identities among `keys`, in order of first appearance. */
export function distinctIdentities(keys: readonly TrustedKey[]): KeyIdentity[] {
  const seen = new Map<string, KeyIdentity>();
  for (const { identity } of keys) if (!seen.has(identity.fingerprint)) seen.set(identity.fingerprint, identity);
  return [...seen.values()];
}
