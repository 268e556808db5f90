import type { Pool } from "pg";
import { UUID_PATTERN } from "../../util/uuidv7.js";
import { GENESIS_CHAIN_HASH } from "../core/entry.js";
import { consistencyRanges, inclusionRanges, nodeHash, type LeafRange } from "../core/merkle.js";
import { perfectSubtrees, rangeHash, storedHashesFor, type Subtree } from "../core/proof-plan.js";

export interface StoredCheckpoint {
  size: number;
  root: Buffer;
  /** The signed note, exactly as signed. */
  note: string;
  createdAt: Date;
}

/** What a client keeps to prove later that its event is in the log: the leaf and its path to a signed root. */
export interface AuditReceipt {
  eventId: string;
  index: number;
  leaf: Buffer;
  checkpoint: StoredCheckpoint;
  /** Inclusion proof of leaf `index` in the tree of checkpoint.size leaves. */
  proof: Buffer[];
}

/** Two signed trees of the log and the RFC 9162 proof that the newer extends the older. */
export interface AuditConsistency {
  old: StoredCheckpoint;
  new: StoredCheckpoint;
  proof: Buffer[];
}

/**
 * Why a proof the caller asked for cannot be made: no signed checkpoint has the size asked for, the event came after
 * the tree asked for, or the "old" tree is larger than the "new" one.
 */
export class AuditProofUnavailable extends RangeError {
  constructor(
    readonly reason: "no_checkpoint" | "not_in_tree" | "backwards",
    message: string,
  ) {
    super(message);
  }
}

/** What the sequencer has yet to take and the newest signed tree: what an operator watches (metrics). */
export interface AuditBacklog {
  /** Events acknowledged and not yet sequenced. */
  queued: number;
  /** Age of the oldest of them, by the database's clock; 0 when none waits. */
  oldestQueuedSeconds: number;
  /** Leaves in the newest signed checkpoint, and its age; null before the first. */
  checkpointSize: number | null;
  checkpointAgeSeconds: number | null;
}

export interface LeafLinesPage {
  /** One past the last index in this page. */
  end: number;
  lines: Buffer;
}

export interface ReaderPageSizes {
  /** Leaves per page when streaming: a page is one query and one Buffer of a few MB. Default 2048. */
  leavesPerPage?: number;
}

/** Reads the sequenced log. Every range read checks that the indexes it got are contiguous. */
export class AuditLogReader {
  private readonly leavesPerPage: number;

  constructor(private readonly pool: Pool, pageSizes: ReaderPageSizes = {}) {
    this.leavesPerPage = pageSizes.leavesPerPage ?? 2048;
  }

  /**
   * The leaves of [from, to), each followed by "\n" (canonical JSON holds no raw newline), in pages of concatenated
   * bytes: streaming a million leaves never holds more than one page.
   */
  async *leafLines(from: number, to: number): AsyncGenerator<LeafLinesPage> {
    for (let start = from; start < to; start += this.leavesPerPage) {
      const end = Math.min(to, start + this.leavesPerPage);
      const result = await this.pool.query<{ count: number; lines: Buffer | null }>(
        `SELECT count(*)::int AS count, string_agg(leaf || '\\x0a'::bytea, ''::bytea ORDER BY idx) AS lines
           FROM audit_log WHERE idx >= $1 AND idx < $2`,
        [start, end],
      );
      const page = result.rows[0];
      expectContiguous(start, end, page?.count ?? 0);
      yield { end, lines: page?.lines ?? Buffer.alloc(0) };
    }
  }

  /**
   * At most `limit` leaves after index `after` (-1: from the first), in index order: the pages an event stream reads,
   * so that what one reader holds is bounded. The one sequencer commits leaves in index order, so a leaf never
   * appears behind one already read.
   */
  async leavesAfter(after: number, limit: number): Promise<Array<{ index: number; leaf: Buffer }>> {
    const result = await this.pool.query<{ idx: string; leaf: Buffer }>("SELECT idx, leaf FROM audit_log WHERE idx > $1 ORDER BY idx LIMIT $2", [after, limit]);
    return result.rows.map((row) => ({ index: Number(row.idx), leaf: row.leaf }));
  }

  /** Bytes of leafLines(from, to): every leaf plus its newline. */
  async linesByteLength(from: number, to: number): Promise<number> {
    const result = await this.pool.query<{ bytes: string }>(
      "SELECT coalesce(sum(octet_length(leaf) + 1), 0)::bigint AS bytes FROM audit_log WHERE idx >= $1 AND idx < $2",
      [from, to],
    );
    return Number(result.rows[0]?.bytes ?? 0);
  }

  /** The chain hash of leaf index - 1: what leaf `index` names as "prev". */
  async chainHashBefore(index: number): Promise<Buffer> {
    if (index === 0) return GENESIS_CHAIN_HASH;
    const result = await this.pool.query<{ chain_hash: Buffer }>("SELECT chain_hash FROM audit_log WHERE idx = $1", [index - 1]);
    const row = result.rows[0];
    if (row === undefined) throw new Error(`audit log has no leaf ${index - 1}`);
    return row.chain_hash;
  }

  async latestCheckpoint(): Promise<StoredCheckpoint | null> {
    return this.checkpointWhere("TRUE", []);
  }

  /** The checkpoint of exactly `size` leaves, if the log signed one. */
  async checkpointAt(size: number): Promise<StoredCheckpoint | null> {
    return this.checkpointWhere("size = $1", [size]);
  }

  /** The largest checkpoint whose size is at most `size`. */
  async checkpointAtOrBelow(size: number): Promise<StoredCheckpoint | null> {
    return this.checkpointWhere("size <= $1", [size]);
  }

  /** The smallest checkpoint whose size is above `size`. */
  async checkpointAbove(size: number): Promise<StoredCheckpoint | null> {
    return this.checkpointWhere("size > $1", [size], "smallest");
  }

  /** Index of the first leaf whose event time is at or after `time`; null if none. */
  async firstIndexAtOrAfter(time: Date): Promise<number | null> {
    const result = await this.pool.query<{ idx: string | null }>("SELECT min(idx) AS idx FROM audit_log WHERE event_time >= $1", [time]);
    const idx = result.rows[0]?.idx;
    return idx === null || idx === undefined ? null : Number(idx);
  }

  /** One past the last leaf whose event time is before `time`; 0 if none. */
  async endIndexBefore(time: Date): Promise<number> {
    const result = await this.pool.query<{ idx: string | null }>("SELECT max(idx) AS idx FROM audit_log WHERE event_time < $1", [time]);
    const idx = result.rows[0]?.idx;
    return idx === null || idx === undefined ? 0 : Number(idx) + 1;
  }

  /** Whether the event is acknowledged but not yet sequenced. */
  async isQueued(eventId: string): Promise<boolean> {
    if (!UUID_PATTERN.test(eventId)) return false;
    return (await this.pool.query("SELECT 1 FROM audit_queue WHERE event_id = $1", [eventId])).rowCount === 1;
  }

  /** One query; ages by the database's clock, so a gateway whose clock is off still reports them right. */
  async backlog(): Promise<AuditBacklog> {
    const result = await this.pool.query<{ queued: string; oldest: number | null; size: string | null; age: number | null }>(
      `SELECT q.queued, q.oldest, c.size, extract(epoch FROM clock_timestamp() - c.created_at)::float8 AS age
       FROM (SELECT count(*) AS queued, extract(epoch FROM clock_timestamp() - min(enqueued_at))::float8 AS oldest FROM audit_queue) q
       LEFT JOIN LATERAL (SELECT size, created_at FROM audit_checkpoints ORDER BY size DESC LIMIT 1) c ON true`,
    );
    const row = result.rows[0]!;
    return {
      queued: Number(row.queued),
      oldestQueuedSeconds: Math.max(0, row.oldest ?? 0),
      checkpointSize: row.size === null ? null : Number(row.size),
      checkpointAgeSeconds: row.age === null ? null : Math.max(0, row.age),
    };
  }

  /**
   * The event's leaf and its inclusion proof in the latest signed tree, or in the tree of `treeSize` leaves (a
   * checkpoint the auditor already holds; AuditProofUnavailable when the log signed none of that size or the
   * event came after it). null while the event is still queued, or if the id is unknown.
   */
  async receipt(eventId: string, options: { treeSize?: number } = {}): Promise<AuditReceipt | null> {
    if (!UUID_PATTERN.test(eventId)) return null;
    const leafRow = (
      await this.pool.query<{ idx: string; leaf: Buffer }>("SELECT idx, leaf FROM audit_log WHERE event_id = $1", [eventId])
    ).rows[0];
    if (leafRow === undefined) return null;
    const index = Number(leafRow.idx);
    // Read after the leaf: the checkpoint of its batch committed with it, so the latest one covers it.
    const checkpoint = options.treeSize === undefined ? await this.latestCheckpoint() : await this.signedTree(options.treeSize);
    if (checkpoint === null) throw new Error(`audit log holds event ${eventId} but no checkpoint`);
    if (index >= checkpoint.size) {
      throw new AuditProofUnavailable("not_in_tree", `event ${eventId} is leaf ${index}, sequenced after the tree of ${checkpoint.size} leaves: ask for a larger tree`);
    }
    const proof = await this.proofHashes(inclusionRanges(index, checkpoint.size));
    return { eventId, index, leaf: leafRow.leaf, checkpoint, proof };
  }

  /** The checkpoints of `oldSize` and of `newSize` leaves (default: the latest) and the proof linking them. */
  async consistency(oldSize: number, newSize?: number): Promise<AuditConsistency> {
    const older = await this.signedTree(oldSize);
    const newer = newSize === undefined ? await this.latestCheckpoint() : await this.signedTree(newSize);
    if (newer === null) throw new AuditProofUnavailable("no_checkpoint", "the audit log has no signed checkpoint yet");
    if (older.size > newer.size) {
      throw new AuditProofUnavailable("backwards", `the old tree (${older.size} leaves) is larger than the new one (${newer.size})`);
    }
    return { old: older, new: newer, proof: await this.consistencyProof(older.size, newer.size) };
  }

  /**
   * The right edge of the tree of `size` leaves (CompactRange hashes, largest subtree first): what an export
   * starting at `size` carries as its prefix. O(log n) stored hashes, like a proof.
   */
  async frontierAt(size: number): Promise<Buffer[]> {
    if (size === 0) return [];
    const subtrees = perfectSubtrees({ start: 0, end: size });
    return this.proofHashes(subtrees.map(({ level, index }) => ({ start: index * 2 ** level, end: (index + 1) * 2 ** level })));
  }

  /** Consistency proof from the tree of oldSize leaves to the tree of newSize leaves. */
  async consistencyProof(oldSize: number, newSize: number): Promise<Buffer[]> {
    return this.proofHashes(consistencyRanges(oldSize, newSize));
  }

  /**
   * The hash of each of `ranges` (the elements of one proof), from the few stored hashes they are made of: leaf
   * hashes below level 8 and audit_tree_nodes above (proof-plan.ts), O(log n) of them, in one query. Everything it
   * reads lies in complete subtrees inside the ranges, committed before any checkpoint that covers them, so a log
   * growing meanwhile changes nothing. A hash that is not there fails the proof rather than make a wrong one.
   */
  private async proofHashes(ranges: LeafRange[]): Promise<Buffer[]> {
    if (ranges.length === 0) return [];
    const needed = storedHashesFor(ranges);
    const leaves = needed.filter((subtree) => subtree.level === 0).map((subtree) => subtree.index);
    const nodes = needed.filter((subtree) => subtree.level > 0);
    const result = await this.pool.query<{ level: number; idx: string; hash: Buffer }>(
      `SELECT 0::smallint AS level, idx, leaf_hash AS hash FROM audit_log WHERE idx = ANY($1::bigint[])
       UNION ALL
       SELECT n.level, n.idx, n.hash
         FROM unnest($2::smallint[], $3::bigint[]) AS wanted(level, idx)
         JOIN audit_tree_nodes n ON n.level = wanted.level AND n.idx = wanted.idx`,
      [leaves, nodes.map((node) => node.level), nodes.map((node) => node.index)],
    );
    const found = new Map<string, Buffer>();
    for (const row of result.rows) found.set(`${row.level}:${row.idx}`, row.hash);
    const read = (stored: Subtree): Buffer => {
      const hash = found.get(`${stored.level}:${stored.index}`);
      if (hash === undefined) throw missingHash(stored);
      return hash;
    };
    return ranges.map((range) => rangeHash(range, read, nodeHash));
  }

  /** A checkpoint the caller names by its size: one the log signed, or AuditProofUnavailable. */
  private async signedTree(size: number): Promise<StoredCheckpoint> {
    const checkpoint = await this.checkpointAt(size);
    if (checkpoint === null) {
      throw new AuditProofUnavailable("no_checkpoint", `the log signed no checkpoint of ${size} leaves (one is signed per sequenced batch)`);
    }
    return checkpoint;
  }

  /** The largest (or smallest) checkpoint whose size meets `condition`. */
  private async checkpointWhere(condition: string, values: unknown[], pick: "largest" | "smallest" = "largest"): Promise<StoredCheckpoint | null> {
    const result = await this.pool.query<{ size: string; root: Buffer; note: string; created_at: Date }>(
      `SELECT size, root, note, created_at FROM audit_checkpoints WHERE ${condition} ORDER BY size ${pick === "largest" ? "DESC" : "ASC"} LIMIT 1`,
      values,
    );
    const row = result.rows[0];
    return row === undefined ? null : { size: Number(row.size), root: row.root, note: row.note, createdAt: row.created_at };
  }
}

function missingHash({ level, index }: Subtree): Error {
  const first = index * 2 ** level;
  const end = first + 2 ** level;
  if (level === 0) return new Error(`audit log has no leaf ${index}: the tree the proof is for is larger than the log`);
  return new Error(
    `audit_tree_nodes has no hash of the subtree of leaves [${first}, ${end}) (level ${level}, index ${index}): ` +
      "either the log has fewer leaves, or those leaves were appended without storing subtree hashes (migration 0003)",
  );
}

function expectContiguous(from: number, to: number, count: number): void {
  if (count !== to - from) throw new Error(`audit log holds ${count} of the leaves [${from}, ${to}): the range is not sequenced`);
}
