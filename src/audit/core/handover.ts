import type { KeyObject } from "node:crypto";
import { sign, verify } from "node:crypto";
import { decodeStandardBase64 } from "./checkpoint.js";

/**
 * The handover of a key rotation: the PREVIOUS key signs the next key's public half, so an auditor who trusts only
 * the old key can trust the new one. The signed text is
 *   "atomic audit key rotation\n<origin>\n<next key's JWK x>\n"
 * and the signature (Ed25519, base64) is the `handover` of the `key.rotated` event.
 */

export function handoverText(origin: string, nextKeyX: string): string {
  return `atomic audit key rotation\n${origin}\n${nextKeyX}\n`;
}

/** Base64 of the previous key's signature over the handover text. */
export function signHandover(origin: string, nextKeyX: string, previousPrivateKey: KeyObject): string {
  return sign(null, Buffer.from(handoverText(origin, nextKeyX), "utf8"), previousPrivateKey).toString("base64");
}

/** Whether `handover` is the previous key's signature handing the log `origin` over to the key `nextKeyX`. */
export function verifyHandover(origin: string, nextKeyX: string, handover: string, previousPublicKey: KeyObject): boolean {
  const signature = decodeStandardBase64(handover);
  if (signature === undefined || signature.length !== 64) return false;
  return verify(null, Buffer.from(handoverText(origin, nextKeyX), "utf8"), previousPublicKey, signature);
}
