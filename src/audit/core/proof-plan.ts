import type { LeafRange } from "./merkle.js";

/**
 * Proofs from stored subtree hashes instead of every leaf hash.
 *
 * The sequencer stores the hash of every complete aligned subtree whose level is a multiple of TILE_HEIGHT
 * (table audit_tree_nodes; the leaf hashes in audit_log are level 0). Every element of an inclusion or consistency
 * proof is MTH of a node range of the tree (inclusionRanges, consistencyRanges in merkle.ts), which is a few
 * complete aligned subtrees, largest first; a complete subtree of level h is the 2^(h mod TILE_HEIGHT) stored hashes
 * of level h - (h mod TILE_HEIGHT) beneath it, at most 128. A proof's complete subtrees have distinct heights but
 * for one, and at most one of its ranges is not a complete subtree, so it reads at most 2·2^TILE_HEIGHT hashes per
 * TILE_HEIGHT levels: O(log n), as with the tiles of C2SP tlog-tiles (whose height is also 8).
 * Everything here is pure arithmetic on sizes and indexes, plain numbers safe up to 2^53 (no 32-bit bit operators).
 */

/** The stored levels are the multiples of this (above 0). Migration 0003_audit_tree.sql relies on it being 8. */
export const TILE_HEIGHT = 8;

/** The complete aligned subtree of leaves [index·2^level, (index+1)·2^level). Level 0 is one leaf. */
export interface Subtree {
  readonly level: number;
  readonly index: number;
}

/**
 * The complete aligned subtrees that make up the node range [start, end), largest (leftmost) first: one per set bit
 * of end - start. MTH(D[start:end]) is their hashes folded from the right, h0 ‖ (h1 ‖ (… ‖ hk)), since RFC 9162
 * splits a list at the largest power of two below its length. Refuses a range that is not a node of any tree
 * (start not a multiple of its largest part), where the parts would not be aligned subtrees.
 */
export function perfectSubtrees(range: LeafRange): Subtree[] {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end <= start) {
    throw new RangeError(`subtree range [${start}, ${end}) is empty or not a range of leaf indexes`);
  }
  const parts: Subtree[] = [];
  let at = start;
  let level = 0;
  let width = 1;
  while (width * 2 <= end - start) {
    width *= 2;
    level += 1;
  }
  if (start % width !== 0) throw new RangeError(`subtree range [${start}, ${end}) is not aligned: ${start} is not a multiple of ${width}`);
  for (; at < end; width /= 2, level -= 1) {
    if (end - at >= width) {
      parts.push({ level, index: at / width });
      at += width;
    }
  }
  return parts;
}

/**
 * Where the hash of a complete subtree is read from: `count` consecutive stored hashes of `level` (the largest
 * multiple of tileHeight not above the subtree's level), starting at `index`. Level 0 means leaf hashes.
 */
export function storedParts(subtree: Subtree, tileHeight: number = TILE_HEIGHT): { level: number; index: number; count: number } {
  checkTileHeight(tileHeight);
  const level = subtree.level - (subtree.level % tileHeight);
  const count = 2 ** (subtree.level - level);
  return { level, index: subtree.index * count, count };
}

/** Every stored hash that the hashes of `ranges` are computed from, each once, in order of the ranges. */
export function storedHashesFor(ranges: readonly LeafRange[], tileHeight: number = TILE_HEIGHT): Subtree[] {
  const seen = new Set<string>();
  const needed: Subtree[] = [];
  for (const range of ranges) {
    for (const subtree of perfectSubtrees(range)) {
      const parts = storedParts(subtree, tileHeight);
      for (let i = 0; i < parts.count; i++) {
        const key = `${parts.level}:${parts.index + i}`;
        if (seen.has(key)) continue;
        seen.add(key);
        needed.push({ level: parts.level, index: parts.index + i });
      }
    }
  }
  return needed;
}

/**
 * MTH(D[start:end]) of a node range, from the stored hashes `read` returns (storedHashesFor names them), combined
 * with `combine` (nodeHash; generic so that tests can follow the combination symbolically in trees of 2^40 leaves).
 */
export function rangeHash<T>(
  range: LeafRange,
  read: (stored: Subtree) => T,
  combine: (left: T, right: T) => T,
  tileHeight: number = TILE_HEIGHT,
): T {
  const hashes = perfectSubtrees(range).map((subtree) => subtreeHash(subtree, read, combine, tileHeight));
  let hash = hashes[hashes.length - 1] as T;
  for (let i = hashes.length - 2; i >= 0; i--) hash = combine(hashes[i] as T, hash);
  return hash;
}

/** The hash of a complete subtree: its stored parts, paired up level by level. */
function subtreeHash<T>(subtree: Subtree, read: (stored: Subtree) => T, combine: (left: T, right: T) => T, tileHeight: number): T {
  const parts = storedParts(subtree, tileHeight);
  let row: T[] = [];
  for (let i = 0; i < parts.count; i++) row.push(read({ level: parts.level, index: parts.index + i }));
  while (row.length > 1) {
    const next: T[] = [];
    for (let i = 0; i < row.length; i += 2) next.push(combine(row[i] as T, row[i + 1] as T));
    row = next;
  }
  return row[0] as T;
}

function checkTileHeight(tileHeight: number): void {
  if (!Number.isSafeInteger(tileHeight) || tileHeight < 1) throw new RangeError(`tile height ${tileHeight} is not a positive integer`);
}
