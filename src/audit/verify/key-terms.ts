import { describeKey, type KeyIdentity } from "../core/key-identity.js";
import { fingerprintOf, type RotationLeaf } from "./rotation-leaf.js";
import type { TrustedKey } from "./trusted-keys.js";

/**
 * Which key may sign a checkpoint of a given size. `atomic keys rotate` queues a key.rotated leaf and deletes the old
 * private key; the gateway restarts with the new key. So the key retired by the leaf at index r signs trees of at
 * most r leaves (its successor may sign some of those too: events queued before the rotation leaf are sequenced
 * after the restart), and a checkpoint of more than r leaves signed by it is what someone who obtained it would make.
 *
 * A checkpoint is accepted only when the verifier can justify its signer at its size:
 *   - a key's bound is the smaller of the auditor's `--retired KEY@r` and the index of the key.rotated leaf that
 *     retires it among the leaves verified (an export's entries, a receipt's leaf); past it: key_retired;
 *   - a key with no bound at all is taken for the log's current key, and there is only one: when two keys or more
 *     are given without a bound the verifier cannot tell which of them was retired, and refuses (key_unbounded);
 *   - the key the last rotation leaf verified hands the log to must be among the keys given (key_unbounded).
 * The leaves only ever bound keys. Whoever holds a retired key can copy the log's genuine rotation leaves into a tree
 * of theirs, to bound keys other than theirs and be the only unbounded one; but those leaves end with a handover to
 * the log's current key, which then has to be given, and is unbounded too. Bundled into audit/verify.mjs.
 */

export type KeyTermsCode = "key_retired" | "key_unbounded";

export class KeyRefused extends Error {
  constructor(
    readonly code: KeyTermsCode,
    message: string,
  ) {
    super(message);
  }
}

/** The key.rotated leaves among leaves verified to be in a signed tree (an export's entries, a receipt's leaf), in order. */
export interface VerifiedLeaves {
  rotations: readonly RotationLeaf[];
}

/** Where a key stops signing, and who says so. */
interface Bound {
  index: number;
  by: "log" | "auditor";
}

/** A given key that the verified leaves retire, and the leaf that does: what the auditor passes as --retired later. */
export interface Retirement {
  key: KeyIdentity;
  index: number;
}

export class KeyTerms {
  constructor(
    private readonly keys: readonly TrustedKey[],
    private readonly leaves?: VerifiedLeaves,
  ) {}

  /** Throws KeyRefused unless `signer` may sign a checkpoint of `size` leaves; `what` names it ("the checkpoint"). */
  check(size: number, signer: TrustedKey, what: string): void {
    const named = `${what} of ${size} leaves is signed by key ${describeKey(signer.identity)}`;
    const bound = this.boundOf(signer);
    if (bound !== undefined && size > bound.index) {
      const by = bound.by === "log" ? `the key.rotated leaf at index ${bound.index} retired it` : `you gave it as retired at leaf ${bound.index} (--retired)`;
      throw new KeyRefused("key_retired", `${named}, but ${by}: it signs trees of at most ${bound.index} leaves, and a later one is what a holder of the retired key would sign`);
    }
    const last = this.leaves?.rotations.at(-1);
    if (last !== undefined && !this.keys.some((key) => key.x === last.nextKey)) {
      throw new KeyRefused(
        "key_unbounded",
        `${named}, but the key.rotated leaf at index ${last.index} hands the log to key ${fingerprintOf(last.nextKey)}, which is not among the keys given: ` +
          "give it with --key (it is the current key, or retired by a later leaf)",
      );
    }
    if (bound !== undefined) return;
    const unbounded = new Map<string, TrustedKey>();
    for (const key of this.keys) if (this.boundOf(key) === undefined) unbounded.set(key.x, key);
    if (unbounded.size > 1) {
      const ids = [...unbounded.values()].map((key) => key.identity.keyId).join(", ");
      throw new KeyRefused(
        "key_unbounded",
        `${named}, but keys ${ids} are given without a bound and only one of them can be the log's current key: ` +
          "give --retired KEYID@INDEX for each retired key (INDEX: the index of the key.rotated leaf that retired it)",
      );
    }
  }

  /** The given keys the verified leaves retire, in the order of the leaves. */
  retirements(): Retirement[] {
    const found: Retirement[] = [];
    for (const rotation of this.leaves?.rotations ?? []) {
      const key = this.keys.find((candidate) => candidate.x === rotation.previousKey);
      if (key !== undefined && !found.some((known) => known.key.fingerprint === key.identity.fingerprint)) found.push({ key: key.identity, index: rotation.index });
    }
    return found;
  }

  /** The smaller of the auditor's bound and the first verified leaf that retires the key. */
  private boundOf(key: TrustedKey): Bound | undefined {
    const retiring = this.leaves?.rotations.find((rotation) => rotation.previousKey === key.x);
    if (retiring !== undefined && (key.retiredAt === undefined || retiring.index <= key.retiredAt)) return { index: retiring.index, by: "log" };
    return key.retiredAt === undefined ? undefined : { index: key.retiredAt, by: "auditor" };
  }
}
