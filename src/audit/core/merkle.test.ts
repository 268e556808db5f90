import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  CompactRange,
  CompactRangeBuilder,
  EMPTY_TREE_ROOT,
  consistencyProof,
  inclusionRanges,
  consistencyRanges,
  leafHash,
  nodeHash,
  rootFromLeafHashes,
  verifyConsistency,
  verifyInclusion,
} from "./merkle.js";

// ---------------------------------------------------------------------------------------------------------------
// The RFC 9162 §2.1 DEFINITIONS, written out naively over leaf data (slices, recursion, Math.log2 for the split), so
// that every expected value below is computed without the implementation under test.
// ---------------------------------------------------------------------------------------------------------------

function sha(...parts: Uint8Array[]): Buffer {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return hash.digest();
}

/** k: the largest power of two smaller than n (n > 1). */
function split(n: number): number {
  return 2 ** Math.floor(Math.log2(n - 1));
}

/** MTH(D[n]) of §2.1.1. */
function mth(d: readonly Buffer[]): Buffer {
  if (d.length === 0) return sha();
  if (d.length === 1) return sha(Buffer.of(0), d[0] as Buffer);
  const k = split(d.length);
  return sha(Buffer.of(1), mth(d.slice(0, k)), mth(d.slice(k)));
}

/** PATH(m, D[n]) of §2.1.3.1. */
function path(m: number, d: readonly Buffer[]): Buffer[] {
  if (d.length === 1) return [];
  const k = split(d.length);
  return m < k ? [...path(m, d.slice(0, k)), mth(d.slice(k))] : [...path(m - k, d.slice(k)), mth(d.slice(0, k))];
}

/** SUBPROOF(m, D[n], b) of §2.1.4.1. */
function subproof(m: number, d: readonly Buffer[], b: boolean): Buffer[] {
  if (m === d.length) return b ? [] : [mth(d)];
  const k = split(d.length);
  return m <= k
    ? [...subproof(m, d.slice(0, k), b), mth(d.slice(k))]
    : [...subproof(m - k, d.slice(k), false), mth(d.slice(0, k))];
}

/** PROOF(m, D[n]) of §2.1.4.1 (0 < m < n); empty for m = 0 and m = n by convention. */
function proof(m: number, d: readonly Buffer[]): Buffer[] {
  return m === 0 || m === d.length ? [] : subproof(m, d, true);
}

/** Where each sibling of PATH(m, D[n]) sits, bottom-up ("L" or "R"): all the verifier's computation depends on. */
function pathShape(m: number, n: number): string {
  if (n === 1) return "";
  const k = split(n);
  return m < k ? `${pathShape(m, k)}R` : `${pathShape(m - k, n - k)}L`;
}

function sameShape(a: string, b: string): boolean {
  return a === b;
}

/** n distinct leaves of varied lengths, the first one empty. */
function leafData(n: number): Buffer[] {
  return Array.from({ length: n }, (_, i) => Buffer.from(Array.from({ length: i % 7 }, (_, j) => (i * 31 + j * 7) & 0xff).concat(i > 6 ? [i] : [])));
}

/** The audit path from every leaf hash: MTH of each range inclusionRanges names. */
function inclusionProof(index: number, leafHashes: readonly Buffer[]): Buffer[] {
  return inclusionRanges(index, leafHashes.length).map((range) => rootFromLeafHashes(leafHashes.slice(range.start, range.end)));
}

const hex = (hashes: readonly Buffer[]) => hashes.map((hash) => hash.toString("hex"));
const MAX = 64;
const data = leafData(MAX);
const hashes = data.map((leaf) => leafHash(leaf));
const roots = new Map<number, Buffer>();

/** MTH of the first `size` leaves of leafData, computed once per size: the refusal tests ask for each thousands of times. */
function rootOf(size: number): Buffer {
  let root = roots.get(size);
  if (root === undefined) {
    root = mth(leafData(size));
    roots.set(size, root);
  }
  return root;
}

function flipBit(buffer: Buffer, bit: number): Buffer {
  const copy = Buffer.from(buffer);
  copy[bit >> 3] = (copy[bit >> 3] as number) ^ (1 << (bit & 7));
  return copy;
}

describe("hash definitions", () => {
  it("has the well-known empty tree hash", () => {
    expect(EMPTY_TREE_ROOT.toString("hex")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(rootFromLeafHashes([]).toString("hex")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(CompactRange.empty().root().toString("hex")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  });

  it("prefixes leaves with 0x00 and nodes with 0x01", () => {
    for (const leaf of data.slice(0, 10)) expect(leafHash(leaf).equals(sha(Buffer.of(0), leaf))).toBe(true);
    const [a, b] = [hashes[0] as Buffer, hashes[1] as Buffer];
    expect(nodeHash(a, b).equals(sha(Buffer.of(1), a, b))).toBe(true);
    expect(nodeHash(a, b).equals(nodeHash(b, a))).toBe(false);
    expect(() => nodeHash(a, Buffer.alloc(31))).toThrow(RangeError);
  });
});

describe("RFC 6962 test vectors (transparency-dev/merkle, leaves \"\", 00, 10, 2021, …)", () => {
  const leaves = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"].map((h) => Buffer.from(h, "hex"));
  const lh = leaves.map((leaf) => leafHash(leaf));
  const roots = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
  ];

  it("gives the published roots for sizes 1 to 8", () => {
    for (let n = 1; n <= 8; n++) {
      expect(rootFromLeafHashes(lh.slice(0, n)).toString("hex")).toBe(roots[n - 1]);
      expect(CompactRange.fromLeafHashes(lh.slice(0, n)).root().toString("hex")).toBe(roots[n - 1]);
    }
  });

  it("gives the published inclusion proofs", () => {
    const cases: [number, number, string[]][] = [
      [0, 1, []],
      [0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7", "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]],
      [5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b", "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0", "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]],
      [2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]],
      [1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d", "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]],
    ];
    for (const [index, size, expected] of cases) {
      const got = inclusionProof(index, lh.slice(0, size));
      expect(hex(got)).toEqual(expected);
      expect(verifyInclusion(index, size, lh[index] as Buffer, got, Buffer.from(roots[size - 1] as string, "hex"))).toBe(true);
    }
  });

  it("gives the published consistency proofs", () => {
    const cases: [number, number, string[]][] = [
      [1, 1, []],
      [1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7", "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]],
      [6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a", "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0", "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]],
      [2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]],
    ];
    for (const [oldSize, newSize, expected] of cases) {
      const got = consistencyProof(oldSize, lh.slice(0, newSize));
      expect(hex(got)).toEqual(expected);
      const oldRoot = Buffer.from(roots[oldSize - 1] as string, "hex");
      const newRoot = Buffer.from(roots[newSize - 1] as string, "hex");
      expect(verifyConsistency(oldSize, newSize, oldRoot, newRoot, got)).toBe(true);
    }
  });
});

describe(`against the RFC definitions for every tree of 0..${MAX} leaves`, () => {
  it("computes MTH, and the compact range of every prefix gives the same root", () => {
    let range = CompactRange.empty();
    const builder = new CompactRangeBuilder();
    for (let n = 0; n <= MAX; n++) {
      const expected = mth(data.slice(0, n));
      expect(rootFromLeafHashes(hashes.slice(0, n)).equals(expected)).toBe(true);
      expect(range.size).toBe(n);
      expect(range.hashes.length).toBe(n.toString(2).split("").filter((bit) => bit === "1").length);
      expect(range.root().equals(expected)).toBe(true);
      expect(builder.root().equals(expected)).toBe(true);
      // The persisted form round-trips.
      expect(CompactRange.from(range.size, range.hashes).root().equals(expected)).toBe(true);
      if (n < MAX) {
        range = range.append(hashes[n] as Buffer);
        builder.append(hashes[n] as Buffer);
      }
    }
  });

  it("gives every inclusion proof exactly as PATH, and each verifies", () => {
    let checked = 0;
    for (let n = 1; n <= MAX; n++) {
      const root = mth(data.slice(0, n));
      for (let m = 0; m < n; m++) {
        const got = inclusionProof(m, hashes.slice(0, n));
        expect(hex(got)).toEqual(hex(path(m, data.slice(0, n))));
        expect(verifyInclusion(m, n, hashes[m] as Buffer, got, root)).toBe(true);
        checked++;
      }
    }
    expect(checked).toBe((MAX * (MAX + 1)) / 2);
  });

  it("gives every consistency proof exactly as PROOF, and each verifies", () => {
    for (let n = 0; n <= MAX; n++) {
      const newRoot = mth(data.slice(0, n));
      for (let m = 0; m <= n; m++) {
        const got = consistencyProof(m, hashes.slice(0, n));
        expect(hex(got)).toEqual(hex(proof(m, data.slice(0, n))));
        expect(verifyConsistency(m, n, mth(data.slice(0, m)), newRoot, got)).toBe(true);
      }
    }
  });
});

describe("inclusion verification refuses", () => {
  const sizes = [1, 2, 3, 5, 7, 8, 9, 13, 16, 17, MAX];

  it("every single-bit flip of the proof, the leaf hash and the root", () => {
    let refused = 0;
    const accepted: string[] = [];
    for (const n of sizes) {
      const root = mth(data.slice(0, n));
      const indexes = n <= 17 ? Array.from({ length: n }, (_, i) => i) : [0, 1, n >> 1, n - 2, n - 1];
      for (const m of indexes) {
        const leaf = hashes[m] as Buffer;
        const good = inclusionProof(m, hashes.slice(0, n));
        for (let bit = 0; bit < 256; bit++) {
          if (verifyInclusion(m, n, flipBit(leaf, bit), good, root)) accepted.push(`size ${n}, index ${m}: leaf bit ${bit}`);
          if (verifyInclusion(m, n, leaf, good, flipBit(root, bit))) accepted.push(`size ${n}, index ${m}: root bit ${bit}`);
          for (let p = 0; p < good.length; p++) {
            const bad = good.slice();
            bad[p] = flipBit(good[p] as Buffer, bit);
            if (verifyInclusion(m, n, leaf, bad, root)) accepted.push(`size ${n}, index ${m}: proof hash ${p} bit ${bit}`);
          }
          refused += 2 + good.length;
        }
      }
    }
    // Collected rather than expected one by one: an expect per verification was half of this test's time.
    expect(accepted).toEqual([]);
    expect(refused).toBeGreaterThan(100_000);
  });

  it("a wrong index, a wrong size, a truncated or extended proof", () => {
    let shapeRefusals = 0;
    let shapeTwins = 0;
    for (const n of sizes) {
      const root = mth(data.slice(0, n));
      for (let m = 0; m < n; m++) {
        const leaf = hashes[m] as Buffer;
        const good = inclusionProof(m, hashes.slice(0, n));
        for (let other = 0; other < n + 3; other++) {
          if (other !== m) expect(verifyInclusion(other, n, leaf, good, root)).toBe(false);
        }
        for (let size = 0; size <= n + 9; size++) {
          if (size === n) continue;
          // A size comes with its own root (both are in a signed checkpoint): the proof for n never proves size.
          const rootOfSize = rootOf(size);
          expect(verifyInclusion(m, size, leaf, good, rootOfSize)).toBe(false);
          // With n's root held fixed, RFC 9162's algorithm depends only on the shape of the path, so it accepts a
          // size whose path to m has the same shape (e.g. index 0 in sizes 3 and 4). It must refuse every other one.
          if (m < size && !sameShape(pathShape(m, size), pathShape(m, n))) {
            expect(verifyInclusion(m, size, leaf, good, root)).toBe(false);
            shapeRefusals++;
          } else if (m < size) {
            expect(verifyInclusion(m, size, leaf, good, root)).toBe(true);
            shapeTwins++;
          }
        }
        if (good.length > 0) {
          expect(verifyInclusion(m, n, leaf, good.slice(1), root)).toBe(false);
          expect(verifyInclusion(m, n, leaf, good.slice(0, -1), root)).toBe(false);
        }
        expect(verifyInclusion(m, n, leaf, [...good, root], root)).toBe(false);
        expect(verifyInclusion(m, n, leaf, [...good, leaf], root)).toBe(false);
        expect(verifyInclusion(m, n, leaf, [leaf, ...good], root)).toBe(false);
        // The leaf bytes themselves are not the leaf hash.
        expect(verifyInclusion(m, n, data[m] as Buffer, good, root)).toBe(false);
      }
    }
    expect(shapeRefusals).toBeGreaterThan(1000);
    expect(shapeTwins).toBeGreaterThan(0);
  });

  it("nonsense input without throwing", () => {
    const root = mth(data.slice(0, 4));
    const good = inclusionProof(1, hashes.slice(0, 4));
    const leaf = hashes[1] as Buffer;
    for (const [index, size] of [[-1, 4], [1.5, 4], [Number.NaN, 4], [1, Number.NaN], [1, Infinity], [2 ** 53, 2 ** 53 + 2], [4, 4], [1, -4]]) {
      expect(verifyInclusion(index as number, size as number, leaf, good, root)).toBe(false);
    }
    expect(verifyInclusion(1, 4, leaf, [Buffer.alloc(31), ...good.slice(1)], root)).toBe(false);
    expect(verifyInclusion(1, 4, leaf, [null as unknown as Buffer, ...good.slice(1)], root)).toBe(false);
    expect(verifyInclusion(1, 4, leaf, good, Buffer.alloc(33))).toBe(false);
    expect(verifyInclusion(1, 4, leaf.subarray(1), good, root)).toBe(false);
    expect(verifyInclusion(1, 4, leaf, good, root)).toBe(true);
  });
});

describe("consistency verification refuses", () => {
  const sizes = [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 15, 16, 17, MAX];

  it("every single-bit flip of the proof and of either root", () => {
    let refused = 0;
    const accepted: string[] = [];
    for (const n of sizes) {
      const newRoot = mth(data.slice(0, n));
      const olds = n <= 17 ? Array.from({ length: n }, (_, i) => i + 1) : [1, 2, 3, 31, 32, 33, n - 1, n];
      for (const m of olds) {
        const oldRoot = mth(data.slice(0, m));
        const good = consistencyProof(m, hashes.slice(0, n));
        expect(verifyConsistency(m, n, oldRoot, newRoot, good)).toBe(true);
        for (let bit = 0; bit < 256; bit++) {
          if (verifyConsistency(m, n, flipBit(oldRoot, bit), newRoot, good)) accepted.push(`${m} into ${n}: old root bit ${bit}`);
          if (verifyConsistency(m, n, oldRoot, flipBit(newRoot, bit), good)) accepted.push(`${m} into ${n}: new root bit ${bit}`);
          for (let p = 0; p < good.length; p++) {
            const bad = good.slice();
            bad[p] = flipBit(good[p] as Buffer, bit);
            if (verifyConsistency(m, n, oldRoot, newRoot, bad)) accepted.push(`${m} into ${n}: proof hash ${p} bit ${bit}`);
          }
          refused += 2 + good.length;
        }
      }
    }
    expect(accepted).toEqual([]);
    expect(refused).toBeGreaterThan(100_000);
  });

  it("wrong sizes, a truncated or extended proof", () => {
    for (const n of sizes) {
      const newRoot = mth(data.slice(0, n));
      for (let m = 1; m <= n; m++) {
        const oldRoot = mth(data.slice(0, m));
        const good = consistencyProof(m, hashes.slice(0, n));
        for (let other = 0; other <= n + 9; other++) {
          // Another size comes with its own root, as a signed checkpoint carries both.
          const rootOfOther = rootOf(other);
          // (An empty proof rightly proves that a tree extends the empty tree.)
          if (other !== m && !(other === 0 && good.length === 0)) {
            expect(verifyConsistency(other, n, rootOfOther, newRoot, good)).toBe(false);
          }
          if (other !== n) expect(verifyConsistency(m, other, oldRoot, rootOfOther, good)).toBe(false);
        }
        if (good.length > 0) {
          expect(verifyConsistency(m, n, oldRoot, newRoot, good.slice(1))).toBe(false);
          expect(verifyConsistency(m, n, oldRoot, newRoot, good.slice(0, -1))).toBe(false);
        }
        expect(verifyConsistency(m, n, oldRoot, newRoot, [...good, newRoot])).toBe(false);
        expect(verifyConsistency(m, n, oldRoot, newRoot, [...good, oldRoot])).toBe(false);
        expect(verifyConsistency(m, n, oldRoot, newRoot, [oldRoot, ...good])).toBe(false);
        // Swapped roots (a shrinking tree) never verify.
        if (m !== n) expect(verifyConsistency(n, m, newRoot, oldRoot, good)).toBe(false);
      }
    }
  });

  it("equal sizes need an empty proof and equal roots; size 0 needs an empty proof and the empty root", () => {
    const root = mth(data.slice(0, 5));
    expect(verifyConsistency(5, 5, root, root, [])).toBe(true);
    expect(verifyConsistency(5, 5, root, flipBit(root, 0), [])).toBe(false);
    expect(verifyConsistency(5, 5, root, root, [root])).toBe(false);
    expect(verifyConsistency(0, 5, EMPTY_TREE_ROOT, root, [])).toBe(true);
    expect(verifyConsistency(0, 5, root, root, [])).toBe(false);
    expect(verifyConsistency(0, 5, EMPTY_TREE_ROOT, root, [root])).toBe(false);
    expect(verifyConsistency(0, 0, EMPTY_TREE_ROOT, EMPTY_TREE_ROOT, [])).toBe(true);
  });

  it("nonsense input without throwing", () => {
    const oldRoot = mth(data.slice(0, 3));
    const newRoot = mth(data.slice(0, 7));
    const good = consistencyProof(3, hashes.slice(0, 7));
    for (const [m, n] of [[-1, 7], [3.5, 7], [Number.NaN, 7], [3, Infinity], [2 ** 53, 2 ** 53 + 1], [8, 7]]) {
      expect(verifyConsistency(m as number, n as number, oldRoot, newRoot, good)).toBe(false);
    }
    expect(verifyConsistency(3, 7, oldRoot, newRoot, [Buffer.alloc(33), ...good.slice(1)])).toBe(false);
    expect(verifyConsistency(3, 7, oldRoot, newRoot, [undefined as unknown as Buffer, ...good.slice(1)])).toBe(false);
    expect(verifyConsistency(3, 7, oldRoot.subarray(0, 16), newRoot, good)).toBe(false);
    expect(verifyConsistency(3, 7, oldRoot, newRoot, good)).toBe(true);
  });
});

describe("CompactRange", () => {
  it("is immutable: append returns a new range and leaves the old one as it was", () => {
    const one = CompactRange.empty().append(hashes[0] as Buffer);
    const rootOfOne = one.root();
    const two = one.append(hashes[1] as Buffer);
    expect(one.size).toBe(1);
    expect(one.hashes.length).toBe(1);
    expect(one.root().equals(rootOfOne)).toBe(true);
    expect(two.size).toBe(2);
    expect(() => (one.hashes as Buffer[]).push(hashes[2] as Buffer)).toThrow(TypeError);
    // from() copies: changing the caller's buffers later changes nothing.
    const source = [Buffer.from(hashes[3] as Buffer)];
    const range = CompactRange.from(1, source);
    (source[0] as Buffer).fill(0);
    expect(range.root().equals(hashes[3] as Buffer)).toBe(true);
  });

  it("refuses hashes that do not match the set bits of size, and bad hashes", () => {
    const range = CompactRange.fromLeafHashes(hashes.slice(0, 13));
    expect(range.hashes.length).toBe(3);
    expect(() => CompactRange.from(13, range.hashes.slice(0, 2))).toThrow(RangeError);
    expect(() => CompactRange.from(12, range.hashes)).toThrow(RangeError);
    expect(() => CompactRange.from(0, [hashes[0] as Buffer])).toThrow(RangeError);
    expect(() => CompactRange.from(-1, [])).toThrow(RangeError);
    expect(() => CompactRange.from(1.5, [])).toThrow(RangeError);
    expect(() => CompactRange.from(1, [Buffer.alloc(31)])).toThrow(RangeError);
    expect(() => range.append(Buffer.alloc(33))).toThrow(RangeError);
    expect(CompactRange.from(13, range.hashes).root().equals(mth(data.slice(0, 13)))).toBe(true);
  });

  it("handles sizes beyond 32 bits", () => {
    const size = 2 ** 40 + 2 ** 33 + 5; // bits 40, 33, 2, 0
    const fake = Array.from({ length: 4 }, (_, i) => hashes[i] as Buffer);
    expect(() => CompactRange.from(size, [...fake, hashes[4] as Buffer])).toThrow(RangeError);
    const range = CompactRange.from(size, fake);
    const next = range.append(hashes[9] as Buffer);
    expect(next.size).toBe(size + 1);
    // 2^40 + 2^33 + 6 has bits 40, 33, 2, 1: the new leaf merges with the 1-leaf subtree into a 2-leaf subtree.
    expect(next.hashes.length).toBe(4);
    expect((next.hashes[3] as Buffer).equals(nodeHash(hashes[3] as Buffer, hashes[9] as Buffer))).toBe(true);
    const third = next.append(hashes[10] as Buffer); // bits 40, 33, 2, 1, 0
    expect(third.hashes.length).toBe(5);
  });

  it("agrees with MTH on a thousand leaves", () => {
    const many = Array.from({ length: 1000 }, (_, i) => leafHash(Buffer.from(`leaf ${i}`)));
    const builder = new CompactRangeBuilder();
    for (const hash of many) builder.append(hash);
    expect(builder.root().equals(rootFromLeafHashes(many))).toBe(true);
    expect(builder.toRange().root().equals(mth(many.map((_, i) => Buffer.from(`leaf ${i}`))))).toBe(true);
  });

  it("reports every complete subtree an append completes, smallest first", () => {
    let range = CompactRange.empty();
    for (let i = 0; i < MAX; i++) {
      const reported: [number, number, string][] = [];
      range = range.append(hashes[i] as Buffer, (level, index, hash) => reported.push([level, index, hash.toString("hex")]));
      // Leaf i completes the subtrees [j·2^h, (j+1)·2^h) that end at i + 1: one per trailing set bit of i, plus itself.
      const expected: [number, number, string][] = [];
      for (let level = 0; (i + 1) % 2 ** level === 0; level++) {
        const index = (i + 1) / 2 ** level - 1;
        expected.push([level, index, mth(data.slice(index * 2 ** level, (index + 1) * 2 ** level)).toString("hex")]);
      }
      expect(reported).toEqual(expected);
    }
    // Beyond 32 bits: the last leaf of 2^40 completes subtrees up to the whole tree, index 0 at level 40.
    const almost = CompactRange.from(2 ** 40 - 1, Array.from({ length: 40 }, (_, i) => hashes[i] as Buffer));
    const levels: [number, number][] = [];
    const full = almost.append(hashes[40] as Buffer, (level, index) => levels.push([level, index]));
    expect(levels).toEqual(Array.from({ length: 41 }, (_, level) => [level, 2 ** (40 - level) - 1]));
    expect(full.hashes).toHaveLength(1);
  });

  it("proof planners refuse out-of-range arguments", () => {
    expect(() => inclusionRanges(3, 3)).toThrow(RangeError);
    expect(() => inclusionRanges(-1, 3)).toThrow(RangeError);
    expect(() => inclusionRanges(0, 0)).toThrow(RangeError);
    expect(() => inclusionRanges(1, 2.5)).toThrow(RangeError);
    expect(() => consistencyRanges(4, 3)).toThrow(RangeError);
    expect(() => consistencyRanges(-1, 3)).toThrow(RangeError);
    expect(() => consistencyRanges(1, Number.NaN)).toThrow(RangeError);
    expect(() => consistencyProof(4, hashes.slice(0, 3))).toThrow(RangeError);
    expect(() => consistencyProof(-1, hashes.slice(0, 3))).toThrow(RangeError);
  });
});
