import { createPublicKey, type KeyObject } from "node:crypto";
import type { AuditEvent } from "../core/entry.js";
import { verifyHandover } from "../core/handover.js";
import { sha256 } from "../core/sha256.js";

/**
 * The key.rotated leaves of a log as the verifier reads them (audit/FORMAT.md §6): the key each one retires, the key
 * it hands the log to, and the retired key's handover signature over its successor, checked. A rotation is what
 * bounds a retired key (key-terms.ts). Bundled into audit/verify.mjs: node built-ins and src/audit/core only.
 */

export const ROTATION_KIND = "key.rotated";

/**
 * More key.rotated leaves than a log honestly holds (each rotation stops the gateway) are refused, so that a forged
 * export cannot make the verifier keep an unbounded list of them.
 */
export const MAX_ROTATIONS = 10_000;

export interface RotationLeaf {
  /** The leaf's index: the key it retires signs trees of at most this many leaves. */
  index: number;
  /** JWK "x" (base64url of the raw 32-byte Ed25519 key) of the key retired. */
  previousKey: string;
  /** JWK "x" of the key the log is handed to. */
  nextKey: string;
}

/** A key.rotated leaf the verifier cannot take as a rotation; the message reads after "the leaf". */
export class RotationInvalid extends Error {}

const RAW_KEY = /^[A-Za-z0-9_-]{43}$/;

/** The rotation a leaf records, or undefined for a leaf of another kind; throws RotationInvalid with the reason. */
export function rotationOf(event: AuditEvent, index: number, origin: string): RotationLeaf | undefined {
  if (event.kind !== ROTATION_KIND) return undefined;
  const detail: unknown = event.detail;
  if (typeof detail !== "object" || detail === null || Array.isArray(detail)) throw new RotationInvalid("is a key.rotated leaf without a detail object");
  const { previousKey, nextKey, handover } = detail as Record<string, unknown>;
  if (!isRawKey(previousKey) || !isRawKey(nextKey)) {
    throw new RotationInvalid("is a key.rotated leaf whose detail.previousKey or detail.nextKey is not the base64url of a 32-byte Ed25519 key");
  }
  const retiring = publicKeyOf(previousKey);
  // Without this, whoever holds any key could write a leaf "retiring" the current one.
  if (typeof handover !== "string" || retiring === undefined || !verifyHandover(origin, nextKey, handover, retiring)) {
    throw new RotationInvalid(`is a key.rotated leaf whose handover is not a signature by the key it retires (${fingerprintOf(previousKey)}) over the next key`);
  }
  return { index, previousKey, nextKey };
}

/**
 * The rotations of a stretch of the log, in index order: each must retire the key the one before handed the log to,
 * as a log whose keys rotate one after the other has them. Keeps only the last one.
 */
export class RotationChain {
  private last: RotationLeaf | undefined;
  private count = 0;

  /** Takes the next rotation; returns why it cannot follow the ones before (reads after "the leaf"), or undefined. */
  follow(rotation: RotationLeaf): string | undefined {
    if (this.count >= MAX_ROTATIONS) return `is key.rotated leaf number ${this.count + 1}: more than ${MAX_ROTATIONS} rotations is no log's history`;
    if (this.last !== undefined && rotation.previousKey !== this.last.nextKey) {
      return `retires key ${fingerprintOf(rotation.previousKey)}, but the key.rotated leaf at index ${this.last.index} handed the log to ${fingerprintOf(this.last.nextKey)}`;
    }
    this.last = rotation;
    this.count += 1;
    return undefined;
  }
}

/** A raw key's fingerprint as key-identity.ts words it ("sha256:" + hex), for keys known only by their "x". */
export function fingerprintOf(x: string): string {
  return `sha256:${sha256(Buffer.from(x, "base64url")).toString("hex")}`;
}

function isRawKey(value: unknown): value is string {
  return typeof value === "string" && RAW_KEY.test(value) && Buffer.from(value, "base64url").toString("base64url") === value;
}

function publicKeyOf(x: string): KeyObject | undefined {
  try {
    return createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x }, format: "jwk" });
  } catch {
    return undefined;
  }
}
