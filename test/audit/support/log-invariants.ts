import type { Pool } from "pg";
import { expect } from "vitest";
import { verifyCheckpoint } from "../../../src/audit/core/checkpoint.js";
import { chainHash, decodeLeaf, GENESIS_CHAIN_HASH } from "../../../src/audit/core/entry.js";
import type { SigningKey } from "../../../src/audit/core/keys.js";
import { CompactRange, leafHash, rootFromLeafHashes } from "../../../src/audit/core/merkle.js";

interface LogRow {
  idx: string;
  event_id: string;
  leaf: Buffer;
  leaf_hash: Buffer;
  chain_hash: Buffer;
}

/**
 * Everything a sound log satisfies, checked from the rows up: indexes 0..n-1, each expected event exactly once,
 * every leaf canonical and naming its own index and the previous chain hash, stored hashes recomputed, the
 * sequencer's right edge and every stored checkpoint agreeing with the tree of the leaves before them.
 */
export async function expectIntactLog(pool: Pool, key: SigningKey, expectedEventIds: Iterable<string>): Promise<void> {
  const rows = (await pool.query<LogRow>("SELECT idx, event_id, leaf, leaf_hash, chain_hash FROM audit_log ORDER BY idx")).rows;
  const expected = [...expectedEventIds].sort();
  expect(rows.map((row) => Number(row.idx))).toEqual(rows.map((_, i) => i));
  expect(rows.map((row) => row.event_id).sort()).toEqual(expected);

  let prev = GENESIS_CHAIN_HASH;
  const leafHashes: Buffer[] = [];
  rows.forEach((row, i) => {
    const decoded = decodeLeaf(row.leaf);
    expect(decoded.index).toBe(i);
    expect(decoded.event.id).toBe(row.event_id);
    expect(decoded.prev.equals(prev)).toBe(true);
    expect(row.leaf_hash.equals(leafHash(row.leaf))).toBe(true);
    expect(row.chain_hash.equals(chainHash(row.leaf))).toBe(true);
    prev = row.chain_hash;
    leafHashes.push(row.leaf_hash);
  });

  const root = rootFromLeafHashes(leafHashes);
  const state = (
    await pool.query<{ size: string; frontier: Buffer[]; chain_hash: Buffer }>("SELECT size, frontier, chain_hash FROM audit_sequencer")
  ).rows[0]!;
  expect(Number(state.size)).toBe(rows.length);
  expect(state.chain_hash.equals(prev)).toBe(true);
  expect(CompactRange.from(rows.length, state.frontier).root().equals(root)).toBe(true);

  const checkpoints = (await pool.query<{ size: string; root: Buffer; note: string }>("SELECT size, root, note FROM audit_checkpoints ORDER BY size")).rows;
  expect(checkpoints.at(-1)?.size).toBe(String(rows.length));
  expect(checkpoints.at(-1)?.root.equals(root)).toBe(true);
  const rootsAtCheckpoints = rootsAt(new Set(checkpoints.map((checkpoint) => Number(checkpoint.size))), leafHashes);
  for (const checkpoint of checkpoints) {
    const size = Number(checkpoint.size);
    const signed = verifyCheckpoint(checkpoint.note, { name: key.name, publicKey: key.publicKey });
    expect(signed.size).toBe(size);
    expect(signed.root.equals(checkpoint.root)).toBe(true);
    expect(checkpoint.root.equals(rootsAtCheckpoints.get(size)!)).toBe(true);
  }
}

/** Roots of the trees of the first `size` leaves, for each of `sizes`, in one pass. */
function rootsAt(sizes: Set<number>, leafHashes: Buffer[]): Map<number, Buffer> {
  const roots = new Map<number, Buffer>();
  let range = CompactRange.empty();
  for (const hash of leafHashes) {
    range = range.append(hash);
    if (sizes.has(range.size)) roots.set(range.size, range.root());
  }
  return roots;
}
