import { isUtf8 } from "node:buffer";
import { CheckpointError, verifyCheckpoint, type Checkpoint, type NoteVerifier } from "../core/checkpoint.js";
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
}

/** Parses the JWKs; throws TypeError (the reason) when none is given or one is not an Ed25519 public JWK. */
export function trustedKeys(jwks: unknown): TrustedKey[] {
  const list: readonly unknown[] = Array.isArray(jwks) ? jwks : [jwks];
  if (list.length === 0) throw new TypeError("no public key given");
  return list.map((jwk) => {
    const { name, publicKey } = publicKeyFromJwk(jwk);
    return { name, publicKey, identity: keyIdentity(name, publicKey) };
  });
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
