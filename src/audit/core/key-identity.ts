import type { KeyObject } from "node:crypto";
import { noteKeyId, rawEd25519PublicKey } from "./checkpoint.js";
import { sha256 } from "./sha256.js";

/**
 * How people name the log's public key to each other out of band (on the phone, in a signed letter): an auditor
 * compares what the operator reads out with what their own copy of the key gives, before trusting that copy.
 *   keyId:       the C2SP signed-note key id, SHA-256(name ‖ 0x0A ‖ 0x01 ‖ raw key)[0:4] in hex, the 4 bytes every
 *                checkpoint signature line starts with and the suffix of retired key files;
 *   fingerprint: "sha256:" + hex SHA-256 of the 32-byte raw Ed25519 public key (the JWK's x, base64url-decoded),
 *                all 32 bytes, so that no other key can be made to match it.
 */
export interface KeyIdentity {
  /** The note key name, the JWK's kid. */
  name: string;
  keyId: string;
  fingerprint: string;
}

export function keyIdentity(name: string, publicKey: KeyObject): KeyIdentity {
  return {
    name,
    keyId: noteKeyId(name, publicKey).toString("hex"),
    fingerprint: `sha256:${sha256(rawEd25519PublicKey(publicKey)).toString("hex")}`,
  };
}

/** One key in words, as the gateway's start log, `atomic keys` and the verifier print it. */
export function describeKey(identity: KeyIdentity): string {
  return `${identity.name} id ${identity.keyId} ${identity.fingerprint}`;
}
