import { sha256 } from "./sha256.js";

/**
 * RFC 6962 / RFC 9162 Merkle tree over the audit log's leaves.
 *   leaf hash = SHA-256(0x00 ‖ leaf bytes), node hash = SHA-256(0x01 ‖ left ‖ right), empty tree = SHA-256("").
 * All hashes are 32-byte Buffers. Sizes and indexes are plain numbers (safe up to 2^53).
 *
 * CONTRACT (implemented by the audit-core work; signatures are fixed, other modules code against them):
 */

/** Length of every hash in the tree (SHA-256). */
export const HASH_SIZE = 32;

/** MTH({}) = SHA-256 of the empty string: e3b0c442…b855. */
export const EMPTY_TREE_ROOT: Buffer = sha256(new Uint8Array(0));

const LEAF_PREFIX = Buffer.of(0x00);
const NODE_PREFIX = 0x01;

export function leafHash(leaf: Uint8Array): Buffer {
  return sha256(Buffer.concat([LEAF_PREFIX, leaf]));
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  if (left.length !== HASH_SIZE || right.length !== HASH_SIZE) {
    throw new RangeError(`Merkle node hash: children must be ${HASH_SIZE} bytes, got ${left.length} and ${right.length}`);
  }
  const input = Buffer.allocUnsafe(1 + 2 * HASH_SIZE);
  input[0] = NODE_PREFIX;
  input.set(left, 1);
  input.set(right, 1 + HASH_SIZE);
  return sha256(input);
}

/** MTH(D[0:n]) per RFC 9162 §2.1.1, from the leaf hashes. */
export function rootFromLeafHashes(leafHashes: readonly Buffer[]): Buffer {
  for (const hash of leafHashes) checkHash(hash, "leaf hash");
  if (leafHashes.length === 0) return Buffer.from(EMPTY_TREE_ROOT);
  return subtreeRoot(leafHashes, 0, leafHashes.length);
}

/**
 * The right edge of a tree of `size` leaves: the roots of its perfect subtrees, largest (leftmost) first — one per
 * set bit of `size`. Enough to append more leaves and to compute the root without the earlier leaves. This is
 * what the sequencer persists, and what an export of a range [from, to) carries for the leaves before `from`.
 */
export class CompactRange {
  private constructor(readonly size: number, readonly hashes: Buffer[]) {}

  static empty(): CompactRange {
    return new CompactRange(0, Object.freeze([]) as unknown as Buffer[]);
  }

  /** Refuses hashes whose count does not match the set bits of size. */
  static from(size: number, hashes: readonly Buffer[]): CompactRange {
    if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`compact range: size ${size} is not a non-negative safe integer`);
    const expected = popCount(size);
    if (hashes.length !== expected) {
      throw new RangeError(`compact range: a tree of ${size} leaves has ${expected} perfect subtrees, got ${hashes.length} hashes`);
    }
    for (const hash of hashes) checkHash(hash, "compact range hash");
    return new CompactRange(size, Object.freeze(hashes.map((hash) => Buffer.from(hash))) as unknown as Buffer[]);
  }

  /** The compact range of a whole list of leaf hashes (convenience for tests and fixtures). */
  static fromLeafHashes(leafHashes: readonly Buffer[]): CompactRange {
    const builder = new CompactRangeBuilder();
    for (const hash of leafHashes) builder.append(hash);
    return builder.toRange();
  }

  /**
   * A new range with one more leaf (does not mutate this one). `onSubtree`, if given, hears of every complete
   * subtree that the new leaf completes, smallest first: the leaf itself (level 0), then each merge with the
   * right edge, as (level, index, hash) for the subtree of leaves [index·2^level, (index+1)·2^level). The
   * sequencer stores some of them (see proof-plan.ts) without reading any leaf back.
   */
  append(leafHash: Buffer, onSubtree?: (level: number, index: number, hash: Buffer) => void): CompactRange {
    checkHash(leafHash, "leaf hash");
    if (this.size >= Number.MAX_SAFE_INTEGER) throw new RangeError("compact range: size would exceed 2^53 - 1");
    const hashes = this.hashes.slice();
    let hash: Buffer = Buffer.from(leafHash);
    let level = 0;
    // `index` is the index of the subtree being carried at `level`. Each trailing set bit of size is a perfect
    // subtree of the same height as the one being carried (its left sibling, at index - 1): merge them.
    let index = this.size;
    onSubtree?.(level, index, hash);
    for (; index % 2 === 1; index = (index - 1) / 2) {
      hash = nodeHash(hashes.pop() as Buffer, hash);
      level += 1;
      onSubtree?.(level, (index - 1) / 2, hash);
    }
    hashes.push(hash);
    return new CompactRange(this.size + 1, Object.freeze(hashes) as unknown as Buffer[]);
  }

  root(): Buffer {
    return foldRoot(this.hashes);
  }
}

/**
 * A mutable compact range for hot loops (the verifier appends a million leaves): same algorithm as CompactRange,
 * without a copy per append. Not part of the contract; CompactRange is what other modules exchange.
 */
export class CompactRangeBuilder {
  private hashes: Buffer[];
  private count: number;

  constructor(start: CompactRange = CompactRange.empty()) {
    this.hashes = start.hashes.slice();
    this.count = start.size;
  }

  get size(): number {
    return this.count;
  }

  append(leafHash: Buffer): void {
    if (leafHash.length !== HASH_SIZE) throw new RangeError(`leaf hash must be ${HASH_SIZE} bytes, got ${leafHash.length}`);
    if (this.count >= Number.MAX_SAFE_INTEGER) throw new RangeError("compact range: size would exceed 2^53 - 1");
    let hash = leafHash;
    for (let size = this.count; size % 2 === 1; size = (size - 1) / 2) {
      hash = nodeHash(this.hashes.pop() as Buffer, hash);
    }
    this.hashes.push(hash);
    this.count += 1;
  }

  root(): Buffer {
    return foldRoot(this.hashes);
  }

  toRange(): CompactRange {
    return CompactRange.from(this.count, this.hashes);
  }
}

/**
 * Leaves [start, end) of the tree: one node of the RFC 9162 tree, whose hash MTH(D[start:end]) is one element of a
 * proof. `start` is a multiple of the largest power of two not above end - start, so the range is complete aligned
 * subtrees, largest first (perfectSubtrees in proof-plan.ts).
 */
export interface LeafRange {
  readonly start: number;
  readonly end: number;
}

/**
 * What the audit path for leaf `index` in the tree of `size` leaves consists of (RFC 9162 §2.1.3.1, PATH): the
 * range of each element, in the proof's order (bottom-up). Depends on the sizes only, never on the hashes.
 */
export function inclusionRanges(index: number, size: number): LeafRange[] {
  if (!isSize(size) || !Number.isSafeInteger(index) || index < 0 || index >= size) {
    throw new RangeError(`inclusion proof: index ${index} is outside a tree of ${size} leaves`);
  }
  // PATH(m, D[lo:hi]) iteratively from the root down, collecting siblings; the proof lists them bottom-up.
  const ranges: LeafRange[] = [];
  let lo = 0;
  let hi = size;
  while (hi - lo > 1) {
    const k = largestPowerOfTwoBelow(hi - lo);
    if (index < lo + k) {
      ranges.push({ start: lo + k, end: hi });
      hi = lo + k;
    } else {
      ranges.push({ start: lo, end: lo + k });
      lo = lo + k;
    }
  }
  return ranges.reverse();
}

/**
 * What the consistency proof from the tree of `oldSize` leaves to the tree of `newSize` leaves consists of (RFC 9162
 * §2.1.4.1, PROOF): the range of each element, in the proof's order. Empty for oldSize = newSize (RFC 9162) and,
 * by convention (as in transparency-dev/merkle), for oldSize = 0.
 */
export function consistencyRanges(oldSize: number, newSize: number): LeafRange[] {
  if (!isSize(newSize) || !Number.isSafeInteger(oldSize) || oldSize < 0 || oldSize > newSize) {
    throw new RangeError(`consistency proof: old size ${oldSize} is outside 0..${newSize}`);
  }
  if (oldSize === 0 || oldSize === newSize) return [];
  // SUBPROOF(m, D[lo:hi], b), iteratively; the proof lists the collected nodes bottom-up.
  const ranges: LeafRange[] = [];
  let m = oldSize;
  let lo = 0;
  let hi = newSize;
  let complete = true;
  for (;;) {
    const n = hi - lo;
    if (m === n) {
      // SUBPROOF(m, D[m], true) = {}; SUBPROOF(m, D[m], false) = {MTH(D[m])}.
      if (!complete) ranges.push({ start: lo, end: hi });
      break;
    }
    const k = largestPowerOfTwoBelow(n);
    if (m <= k) {
      // SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
      ranges.push({ start: lo + k, end: hi });
      hi = lo + k;
    } else {
      // SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
      ranges.push({ start: lo, end: lo + k });
      lo = lo + k;
      m -= k;
      complete = false;
    }
  }
  return ranges.reverse();
}

/**
 * Consistency proof from the tree of the first `oldSize` leaves to the tree of all `leafHashes`, from every leaf
 * hash (for fixtures and tests; the log's reader computes proofs from stored subtree hashes, see proof-plan.ts).
 */
export function consistencyProof(oldSize: number, leafHashes: readonly Buffer[]): Buffer[] {
  const ranges = consistencyRanges(oldSize, leafHashes.length);
  for (const hash of leafHashes) checkHash(hash, "leaf hash");
  return ranges.map((range) => subtreeRoot(leafHashes, range.start, range.end));
}

/**
 * RFC 9162 §2.1.3.2; false (never throws) on any mismatch, wrong length or out-of-range index.
 * `leaf` is the LEAF HASH (leafHash(bytes)), as in the RFC's algorithm — not the leaf bytes.
 */
export function verifyInclusion(index: number, size: number, leaf: Buffer, proof: readonly Buffer[], root: Buffer): boolean {
  try {
    if (!isSize(index) || !isSize(size) || index >= size) return false;
    if (!isHash(leaf) || !isHash(root) || !proof.every(isHash)) return false;
    let fn = index;
    let sn = size - 1;
    let r = asBuffer(leaf);
    for (const p of proof) {
      if (sn === 0) return false;
      if (fn % 2 === 1 || fn === sn) {
        r = nodeHash(p, r);
        if (fn % 2 === 0) {
          while (fn % 2 === 0 && fn !== 0) {
            fn = fn / 2;
            sn = Math.floor(sn / 2);
          }
        }
      } else {
        r = nodeHash(r, p);
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    return sn === 0 && r.equals(asBuffer(root));
  } catch {
    return false;
  }
}

/**
 * RFC 9162 §2.1.4.2; false (never throws) on any mismatch. oldSize == newSize needs an empty proof and equal roots.
 * oldSize == 0 needs an empty proof and oldRoot == SHA-256("") (the only root a tree of no leaves has).
 */
export function verifyConsistency(oldSize: number, newSize: number, oldRoot: Buffer, newRoot: Buffer, proof: readonly Buffer[]): boolean {
  try {
    if (!isSize(oldSize) || !isSize(newSize) || oldSize > newSize) return false;
    if (!isHash(oldRoot) || !isHash(newRoot) || !proof.every(isHash)) return false;
    if (oldSize === newSize) return proof.length === 0 && asBuffer(oldRoot).equals(newRoot);
    if (oldSize === 0) return proof.length === 0 && asBuffer(oldRoot).equals(EMPTY_TREE_ROOT);
    // 1. An empty proof fails.
    if (proof.length === 0) return false;
    // 2. If first is an exact power of 2, prepend first_hash to the path.
    const path = (isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : proof).map(asBuffer);
    // 3.-4. fn = first - 1, sn = second - 1; shift both right while LSB(fn) is set.
    let fn = oldSize - 1;
    let sn = newSize - 1;
    while (fn % 2 === 1) {
      fn = (fn - 1) / 2;
      sn = Math.floor(sn / 2);
    }
    // 5. fr = sr = the first value of the path.
    let fr = path[0] as Buffer;
    let sr = path[0] as Buffer;
    // 6. For each subsequent value c:
    for (let i = 1; i < path.length; i++) {
      const c = path[i] as Buffer;
      if (sn === 0) return false;
      if (fn % 2 === 1 || fn === sn) {
        fr = nodeHash(c, fr);
        sr = nodeHash(c, sr);
        if (fn % 2 === 0) {
          while (fn % 2 === 0 && fn !== 0) {
            fn = fn / 2;
            sn = Math.floor(sn / 2);
          }
        }
      } else {
        sr = nodeHash(sr, c);
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    // 7. fr = first_hash, sr = second_hash, sn = 0.
    return sn === 0 && fr.equals(oldRoot) && sr.equals(newRoot);
  } catch {
    return false;
  }
}

/** The largest power of two strictly smaller than n (n ≥ 2): the split point k of RFC 9162 §2.1.1. */
export function largestPowerOfTwoBelow(n: number): number {
  if (!(n >= 2)) throw new RangeError(`no power of two split for ${n} leaves`);
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** Number of set bits of a non-negative safe integer (beyond the 32 bits of JavaScript's bitwise operators). */
export function popCount(n: number): number {
  let count = 0;
  for (let rest = n; rest > 0; rest = Math.floor(rest / 2)) count += rest % 2;
  return count;
}

function subtreeRoot(leafHashes: readonly Buffer[], lo: number, hi: number): Buffer {
  if (hi - lo === 1) return leafHashes[lo] as Buffer;
  const k = largestPowerOfTwoBelow(hi - lo);
  return nodeHash(subtreeRoot(leafHashes, lo, lo + k), subtreeRoot(leafHashes, lo + k, hi));
}

function foldRoot(hashes: readonly Buffer[]): Buffer {
  if (hashes.length === 0) return Buffer.from(EMPTY_TREE_ROOT);
  let root = hashes[hashes.length - 1] as Buffer;
  for (let i = hashes.length - 2; i >= 0; i--) root = nodeHash(hashes[i] as Buffer, root);
  return Buffer.from(root);
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && popCount(n) === 1;
}

function isSize(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

function isHash(value: unknown): value is Buffer {
  return value instanceof Uint8Array && value.length === HASH_SIZE;
}

function checkHash(value: unknown, what: string): void {
  if (!isHash(value)) {
    throw new RangeError(`${what} must be a ${HASH_SIZE}-byte Buffer`);
  }
}
