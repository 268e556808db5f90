import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { consistencyProof, consistencyRanges, inclusionRanges, leafHash, type LeafRange, verifyConsistency, verifyInclusion } from "./merkle.js";
import { perfectSubtrees, rangeHash, storedHashesFor, storedParts, type Subtree, TILE_HEIGHT } from "./proof-plan.js";

// ---------------------------------------------------------------------------------------------------------------
// References written from RFC 9162 §2.1 without the code under test: MTH by the recursive split, PATH and PROOF
// (SUBPROOF) as the RFC states them, over leaf hashes, memoised so that every tree up to 140 leaves stays cheap.
// ---------------------------------------------------------------------------------------------------------------

function sha(...parts: Uint8Array[]): Buffer {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return hash.digest();
}

/** k: the largest power of two smaller than n (n > 1). */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** PATH(m, D[start:end]) as ranges, in the RFC's order. */
function pathRanges(m: number, start: number, end: number): LeafRange[] {
  if (end - start === 1) return [];
  const k = split(end - start);
  return m < k
    ? [...pathRanges(m, start, start + k), { start: start + k, end }]
    : [...pathRanges(m - k, start + k, end), { start, end: start + k }];
}

/** SUBPROOF(m, D[start:end], b) as ranges. */
function subproofRanges(m: number, start: number, end: number, b: boolean): LeafRange[] {
  if (m === end - start) return b ? [] : [{ start, end }];
  const k = split(end - start);
  return m <= k
    ? [...subproofRanges(m, start, start + k, b), { start: start + k, end }]
    : [...subproofRanges(m - k, start + k, end, false), { start, end: start + k }];
}

/** PROOF(m, D[n]); empty for m = 0 and m = n by convention. */
function proofRanges(m: number, n: number): LeafRange[] {
  return m === 0 || m === n ? [] : subproofRanges(m, 0, n, true);
}

const MAX = 140;
/**
 * The sizes each tile height is checked at. Heights 2 and 3: every tree of 1..MAX leaves. Height 8 stores nothing
 * above the leaves in trees this small, so every proof there is built from leaves alone, the costliest path to check
 * and the one heights 2 and 3 already take below their first stored level: every size to 48, and each side of 64
 * and 128, where the trees' shapes change (all of 1..140 took 20 s of this file's 34).
 */
const SIZES: Record<number, readonly number[]> = {
  2: Array.from({ length: MAX }, (_, i) => i + 1),
  3: Array.from({ length: MAX }, (_, i) => i + 1),
  8: [...Array.from({ length: 48 }, (_, i) => i + 1), 63, 64, 65, 127, 128, 129, MAX],
};
const leafHashes = Array.from({ length: 300 }, (_, i) => leafHash(Buffer.from(`leaf ${i}`)));
const mthMemo = new Map<string, Buffer>();

/** MTH(D[start:end]) over leafHashes, by the RFC's split. */
function mth(start: number, end: number): Buffer {
  if (end - start === 1) return leafHashes[start] as Buffer;
  const key = `${start}:${end}`;
  let hash = mthMemo.get(key);
  if (hash === undefined) {
    const k = split(end - start);
    hash = sha(Buffer.of(1), mth(start, start + k), mth(start + k, end));
    mthMemo.set(key, hash);
  }
  return hash;
}

const hex = (hashes: readonly Buffer[]) => hashes.map((hash) => hash.toString("hex"));
const nodeHash = (left: Buffer, right: Buffer) => sha(Buffer.of(1), left, right);

/**
 * A store holding what the sequencer would have stored for a tree of `size` leaves: the hash of every complete
 * aligned subtree at a level multiple of tileHeight (level 0: leaf hashes). It refuses (throws on) any other read,
 * so a plan that asks for a level that is not stored or a subtree the tree does not have yet fails the test.
 */
function storeOf(size: number, tileHeight: number) {
  const reads: Subtree[] = [];
  const read = (stored: Subtree): Buffer => {
    const width = 2 ** stored.level;
    if (stored.level % tileHeight !== 0) throw new Error(`read level ${stored.level}, not a multiple of ${tileHeight}`);
    if ((stored.index + 1) * width > size) throw new Error(`read [${stored.index * width}, ${(stored.index + 1) * width}) in a tree of ${size}`);
    reads.push(stored);
    return mth(stored.index * width, (stored.index + 1) * width);
  };
  return { read, reads };
}

function planned(ranges: readonly LeafRange[], size: number, tileHeight: number) {
  const store = storeOf(size, tileHeight);
  const proof = ranges.map((range) => rangeHash(range, store.read, nodeHash, tileHeight));
  // storedHashesFor names exactly the hashes that are read, each once.
  const named = keys(storedHashesFor(ranges, tileHeight));
  expect(named.join() === keys(store.reads).join() && new Set(named).size === named.length).toBe(true);
  return { proof, reads: named.length };
}

function keys(subtrees: readonly Subtree[]): string[] {
  return subtrees.map((s) => `${s.level}:${s.index}`).sort();
}

/**
 * A proof over a tree of n leaves reads at most 2^(t+1) stored hashes per band of t levels: its complete subtrees
 * have distinct heights but for one (2^t - 1 hashes, or 2^t), and at most one of its ranges is not a complete
 * subtree, whose parts again have distinct heights (2^t - 1).
 */
function readBound(n: number, tileHeight: number): number {
  const levels = Math.ceil(Math.log2(Math.max(n, 2)));
  return 2 ** (tileHeight + 1) * Math.ceil(levels / tileHeight);
}

describe("perfectSubtrees and storedParts", () => {
  it("split a node range into aligned complete subtrees, largest first", () => {
    expect(perfectSubtrees({ start: 0, end: 13 })).toEqual([
      { level: 3, index: 0 },
      { level: 2, index: 2 },
      { level: 0, index: 12 },
    ]);
    expect(perfectSubtrees({ start: 8, end: 13 })).toEqual([
      { level: 2, index: 2 },
      { level: 0, index: 12 },
    ]);
    expect(perfectSubtrees({ start: 256, end: 512 })).toEqual([{ level: 8, index: 1 }]);
    expect(perfectSubtrees({ start: 2 ** 41, end: 2 ** 41 + 2 ** 40 + 2 ** 33 + 5 })).toEqual([
      { level: 40, index: 2 },
      { level: 33, index: 384 },
      { level: 2, index: (2 ** 41 + 2 ** 40 + 2 ** 33) / 4 },
      { level: 0, index: 2 ** 41 + 2 ** 40 + 2 ** 33 + 4 },
    ]);
  });

  it("refuse a range that is empty or not a node of any tree", () => {
    expect(() => perfectSubtrees({ start: 4, end: 13 })).toThrow(/not aligned/);
    expect(() => perfectSubtrees({ start: 1, end: 3 })).toThrow(/not aligned/);
    expect(() => perfectSubtrees({ start: 5, end: 5 })).toThrow(RangeError);
    expect(() => perfectSubtrees({ start: -2, end: 2 })).toThrow(RangeError);
    expect(() => storedParts({ level: 3, index: 0 }, 0)).toThrow(RangeError);
  });

  it("read a complete subtree from the stored level at or below it", () => {
    expect(storedParts({ level: 13, index: 5 })).toEqual({ level: 8, index: 160, count: 32 });
    expect(storedParts({ level: 7, index: 3 })).toEqual({ level: 0, index: 384, count: 128 });
    expect(storedParts({ level: 16, index: 9 })).toEqual({ level: 16, index: 9, count: 1 });
    expect(storedParts({ level: 0, index: 9 })).toEqual({ level: 0, index: 9, count: 1 });
    expect(storedParts({ level: 47, index: 1 })).toEqual({ level: 40, index: 128, count: 128 });
    expect(storedParts({ level: 5, index: 3 }, 2)).toEqual({ level: 4, index: 6, count: 2 });
    expect(TILE_HEIGHT).toBe(8);
  });
});

describe(`proofs from stored subtree hashes, trees of 1..${MAX} leaves`, () => {
  // Tile heights 2 and 3 put several stored levels into trees this small; 8 is what the log stores.
  for (const tileHeight of [2, 3, 8]) {
    it(`inclusion, stored levels every ${tileHeight}: the RFC's PATH for every index, and each verifies`, () => {
      let most = 0;
      for (const n of SIZES[tileHeight]!) {
        const root = mth(0, n);
        for (let m = 0; m < n; m++) {
          const ranges = inclusionRanges(m, n);
          expect(ranges).toEqual(pathRanges(m, 0, n));
          const { proof, reads } = planned(ranges, n, tileHeight);
          expect(hex(proof)).toEqual(hex(ranges.map((range) => mth(range.start, range.end))));
          expect(verifyInclusion(m, n, leafHashes[m] as Buffer, proof, root)).toBe(true);
          expect(reads).toBeLessThanOrEqual(readBound(n, tileHeight));
          most = Math.max(most, reads);
        }
      }
      // Reading stored levels saves something wherever there are any (with tile height 1 every node is stored).
      if (tileHeight < 8) expect(most).toBeLessThan(MAX - 1);
    });

    it(`consistency, stored levels every ${tileHeight}: the RFC's PROOF for every old size, and each verifies`, () => {
      for (const n of SIZES[tileHeight]!) {
        const newRoot = mth(0, n);
        const all = consistencyProofOfAll(n);
        for (let m = 0; m <= n; m++) {
          const ranges = consistencyRanges(m, n);
          expect(ranges).toEqual(proofRanges(m, n));
          const { proof, reads } = planned(ranges, n, tileHeight);
          // Equal to the proof computed from every leaf hash, and it verifies.
          expect(hex(proof)).toEqual(hex(all[m] as Buffer[]));
          const oldRoot = m === 0 ? sha() : mth(0, m);
          expect(verifyConsistency(m, n, oldRoot, newRoot, proof)).toBe(true);
          expect(reads).toBeLessThanOrEqual(readBound(n, tileHeight));
        }
      }
    });
  }
});

/**
 * consistencyProof (from every leaf hash) of each old size 0..n into the tree of n leaves; kept for the next tile
 * height, since it does not depend on it (computing it three times was a third of this file's time).
 */
const proofsOfAll = new Map<number, Buffer[][]>();
function consistencyProofOfAll(n: number): Buffer[][] {
  let proofs = proofsOfAll.get(n);
  if (proofs === undefined) {
    proofs = Array.from({ length: n + 1 }, (_, m) => consistencyProof(m, leafHashes.slice(0, n)));
    proofsOfAll.set(n, proofs);
  }
  return proofs;
}

// ---------------------------------------------------------------------------------------------------------------
// Trees of up to 2^40 leaves. Two ways round hashing 2^40 leaves:
//  - symbolically: a stored hash is its name "level/index", and combining the two children of a subtree names the
//    subtree, so a plan that reads the wrong index or combines in the wrong order yields a different expression;
//  - with SHA-256 over a tree whose leaf hashes are all one value except at a few hundred places: a complete
//    subtree without any of those has a hash that depends on its level only, so any subtree is hashed in O(log n).
// ---------------------------------------------------------------------------------------------------------------

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

function randomBelow(next: () => number, n: number): number {
  // Two draws: enough bits for n up to 2^53.
  return Math.floor((next() * 2 ** 21 + next()) * (n / 2 ** 21)) % n;
}

function symbol(level: number, index: number): string {
  return `${level}/${index}`;
}

function symbolicCombine(left: string, right: string): string {
  const l = /^(\d+)\/(\d+)$/.exec(left);
  const r = /^(\d+)\/(\d+)$/.exec(right);
  if (l !== null && r !== null && l[1] === r[1] && Number(l[2]) % 2 === 0 && Number(r[2]) === Number(l[2]) + 1) {
    return symbol(Number(l[1]) + 1, Number(l[2]) / 2);
  }
  return `(${left} ${right})`;
}

/** MTH(D[start:end]) by the RFC's split, in symbols: a complete aligned subtree is its own name. */
function symbolicMth(start: number, end: number): string {
  const n = end - start;
  let width = 1;
  let level = 0;
  while (width < n) {
    width *= 2;
    level += 1;
  }
  if (width === n && start % width === 0) return symbol(level, start / width);
  const k = split(n);
  return `(${symbolicMth(start, start + k)} ${symbolicMth(start + k, end)})`;
}

/** The leaf hashes of a huge tree: one shared value, except at `special` indexes. */
function sparseTree(special: readonly number[]) {
  const specials = [...new Set(special)].sort((a, b) => a - b);
  const plain = sha(Buffer.from("plain leaf"));
  const plainAt: Buffer[] = [plain];
  for (let level = 1; level <= 53; level++) plainAt.push(nodeHash(plainAt[level - 1] as Buffer, plainAt[level - 1] as Buffer));
  const memo = new Map<string, Buffer>();
  const hasSpecial = (start: number, end: number) => {
    // The first special index at or after start, by binary search.
    let lo = 0;
    let hi = specials.length;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if ((specials[mid] as number) < start) lo = mid + 1;
      else hi = mid;
    }
    return lo < specials.length && (specials[lo] as number) < end;
  };
  const leaf = (index: number) => (hasSpecial(index, index + 1) ? leafHash(Buffer.from(`special ${index}`)) : plain);
  /** Hash of the complete aligned subtree (level, index). */
  const subtree = (level: number, index: number): Buffer => {
    const width = 2 ** level;
    if (level === 0) return leaf(index);
    if (!hasSpecial(index * width, (index + 1) * width)) return plainAt[level] as Buffer;
    const key = `${level}:${index}`;
    let hash = memo.get(key);
    if (hash === undefined) {
      hash = nodeHash(subtree(level - 1, 2 * index), subtree(level - 1, 2 * index + 1));
      memo.set(key, hash);
    }
    return hash;
  };
  /** MTH(D[start:end]) by the RFC's split, down to complete aligned subtrees. */
  const mthOf = (start: number, end: number): Buffer => {
    const n = end - start;
    let width = 1;
    let level = 0;
    while (width < n) {
      width *= 2;
      level += 1;
    }
    if (width === n && start % width === 0) return subtree(level, start / width);
    const k = split(n);
    return nodeHash(mthOf(start, start + k), mthOf(start + k, end));
  };
  return { leaf, subtree, mth: mthOf };
}

describe("proofs from stored subtree hashes in trees of up to 2^40 leaves", () => {
  const next = random(0x5eed);
  const sizes = [2 ** 40, 2 ** 40 - 1, 2 ** 32 + 1, 2 ** 24 * 3 + 255, 65_536, 65_537, 256 * 256 * 256 - 1];
  while (sizes.length < 40) sizes.push(1 + randomBelow(next, 2 ** (8 + Math.floor(next() * 33))));

  it("inclusion: each element names the RFC's node, built from the stored levels only", () => {
    for (const size of sizes) {
      const indexes = [0, size - 1, Math.floor(size / 2), ...Array.from({ length: 8 }, () => randomBelow(next, size))];
      for (const index of indexes) {
        const ranges = inclusionRanges(index, size);
        expect(ranges).toEqual(pathRanges(index, 0, size));
        const reads: Subtree[] = [];
        const read = (stored: Subtree) => {
          reads.push(stored);
          return symbol(stored.level, stored.index);
        };
        const proof = ranges.map((range) => rangeHash(range, read, symbolicCombine));
        expect(proof).toEqual(ranges.map((range) => symbolicMth(range.start, range.end)));
        expect(keys(reads).join()).toBe(keys(storedHashesFor(ranges)).join());
        expect(reads.every((stored) => stored.level % TILE_HEIGHT === 0 && (stored.index + 1) * 2 ** stored.level <= size)).toBe(true);
        expect(reads.length).toBeLessThanOrEqual(readBound(size, TILE_HEIGHT));
      }
    }
  });

  it("consistency: each element names the RFC's node, built from the stored levels only", () => {
    for (const newSize of sizes) {
      const olds = [1, newSize - 1, newSize, Math.ceil(newSize / 2), ...Array.from({ length: 8 }, () => 1 + randomBelow(next, newSize))];
      for (const oldSize of olds) {
        const ranges = consistencyRanges(oldSize, newSize);
        expect(ranges).toEqual(proofRanges(oldSize, newSize));
        const reads: Subtree[] = [];
        const read = (stored: Subtree) => {
          reads.push(stored);
          return symbol(stored.level, stored.index);
        };
        const proof = ranges.map((range) => rangeHash(range, read, symbolicCombine));
        expect(proof).toEqual(ranges.map((range) => symbolicMth(range.start, range.end)));
        expect(reads.every((stored) => stored.level % TILE_HEIGHT === 0 && (stored.index + 1) * 2 ** stored.level <= newSize)).toBe(true);
        expect(reads.length).toBeLessThanOrEqual(readBound(newSize, TILE_HEIGHT));
      }
    }
  });

  it("with SHA-256: inclusion and consistency proofs verify against the roots, and equal the RFC's hashes", () => {
    for (const size of sizes.slice(0, 24)) {
      const index = randomBelow(next, size);
      const oldSize = 1 + randomBelow(next, size);
      // Leaves that differ near every place a proof looks: the leaf proven, both tree edges, and random ones.
      const special = [index, index % 2 === 0 ? index + 1 : index - 1, oldSize - 1, oldSize, size - 1, size - 2, 0, 255, 256];
      for (let i = 0; i < 200; i++) special.push(randomBelow(next, size));
      const tree = sparseTree(special.filter((i) => i >= 0 && i < size));
      const read = (stored: Subtree) => tree.subtree(stored.level, stored.index);
      const root = tree.mth(0, size);

      const inclusion = inclusionRanges(index, size);
      const path = inclusion.map((range) => rangeHash(range, read, nodeHash));
      expect(hex(path)).toEqual(hex(inclusion.map((range) => tree.mth(range.start, range.end))));
      expect(verifyInclusion(index, size, tree.leaf(index), path, root)).toBe(true);
      expect(verifyInclusion(index, size + 1, tree.leaf(index), path, tree.mth(0, size + 1))).toBe(false);

      const consistency = consistencyRanges(oldSize, size);
      const proof = consistency.map((range) => rangeHash(range, read, nodeHash));
      expect(hex(proof)).toEqual(hex(consistency.map((range) => tree.mth(range.start, range.end))));
      expect(verifyConsistency(oldSize, size, tree.mth(0, oldSize), root, proof)).toBe(true);
    }
  });
});
