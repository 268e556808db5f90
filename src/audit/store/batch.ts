import { createPublicKey, type KeyObject } from "node:crypto";
import type pg from "pg";
import { rawEd25519PublicKey, signCheckpoint, verifyCheckpoint, type Checkpoint, type NoteSigner, type NoteVerifier } from "../core/checkpoint.js";
import { chainHash, encodeLeafFromText, GENESIS_CHAIN_HASH } from "../core/entry.js";
import { CompactRange, EMPTY_TREE_ROOT, leafHash } from "../core/merkle.js";
import { TILE_HEIGHT } from "../core/proof-plan.js";

export interface BatchOptions {
  /** The fencing token this leader was elected with; the batch commits only while the table still holds it. */
  epoch: number;
  batchSize: number;
  signer: NoteSigner & NoteVerifier;
  /** The keys the log's checkpoints may be signed by (default: the signer's): the last one is checked with them. */
  trusted?: readonly NoteVerifier[];
  /** What this leader last signed, kept between its batches (default: read from the last checkpoint every time). */
  head?: SignedHead;
  origin: string;
}

/** The tree a checkpoint signed: its size and root, and the hash chain's last link. */
interface Signed {
  size: number;
  root: Buffer;
  chain: Buffer;
}

/**
 * What a leader last signed, so that each batch can check, before signing another, that the stored state
 * (audit_sequencer) still describes it: the next checkpoint must extend the last. Empty at the start of a term, when
 * the last checkpoint is read and its signature checked instead.
 */
export class SignedHead {
  value: Signed | null = null;
}

/**
 * The stored sequencer state does not describe the tree the log last signed: someone with access to the database
 * changed it (or the log) outside the sequencer. Nothing is signed over it; the sequencer steps down and says so.
 */
export class AuditStateError extends Error {
  override readonly name = "AuditStateError";
}

export interface BatchOutcome {
  /** Leaves appended to the log. */
  appended: number;
  /** Queued events whose id the log already holds, taken off the queue without a new leaf. */
  duplicates: number;
  /** Tree size once the batch committed. */
  size: number;
}

/** A newer leader was elected after this one: its batch is rolled back and it must stop sequencing. */
export class FencedError extends Error {
  override readonly name = "FencedError";
  constructor(readonly epoch: number, readonly currentEpoch: number) {
    super(`sequencer epoch ${epoch} was superseded by epoch ${currentEpoch}; batch rolled back`);
  }
}

interface SequencerRow {
  epoch: string;
  size: string;
  frontier: Buffer[];
  chain_hash: Buffer;
}

interface QueuedRow {
  event_id: string;
  event: string;
}

/**
 * Moves up to batchSize of the oldest queued events into the log, in one transaction on `client`: each gets the
 * next index, its leaf and chain link; the tree's right edge advances and the hashes of the stored-level subtrees
 * it completes are kept (audit_tree_nodes); a checkpoint of the new size is signed and stored; the events leave the
 * queue. A crash anywhere before COMMIT leaves the queue and the log as they were.
 */
export async function sequenceBatch(client: pg.ClientBase, options: BatchOptions): Promise<BatchOutcome> {
  await client.query("BEGIN");
  try {
    const { signed, ...outcome } = await appendQueuedEvents(client, options);
    await client.query("COMMIT");
    if (options.head) options.head.value = signed;
    return outcome;
  } catch (error) {
    // A connection that cannot roll back is broken; the caller discards it, which ends the transaction anyway.
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}

async function appendQueuedEvents(client: pg.ClientBase, options: BatchOptions): Promise<BatchOutcome & { signed: Signed }> {
  const state = await lockState(client, options.epoch);
  const signed = options.head?.value ?? (await lastSigned(client, options));
  assertStateIsSigned(state, signed);
  const queued = (
    await client.query<QueuedRow>(
      // No row locks: lockState's lock on audit_sequencer already serialises batches, and locking each queued row
      // would write every tuple (and its WAL) once more before the DELETE writes it again.
      "SELECT event_id, event FROM audit_queue ORDER BY enqueued_at, event_id LIMIT $1",
      [options.batchSize],
    )
  ).rows;
  const retiring = queued.findIndex((row) => retiresKey(row, options.signer));
  if (retiring === 0) {
    throw new AuditStateError(
      "the next queued event is the key.rotated that retires this sequencer's own signing key (keys rotate ran while it was running): " +
        "a key signs no tree holding its own retirement, so it signs nothing more; a gateway started with the new key sequences the rotation",
    );
  }
  if (retiring > 0) queued.length = retiring;
  if (queued.length === 0) return { appended: 0, duplicates: 0, size: state.size, signed };

  const taken = queued.map((row) => row.event_id);
  const logged = await alreadyLogged(client, taken);
  const fresh = queued.filter((row) => !logged.has(row.event_id));
  // Off the queue once in the log: the database refuses to remove an event it does not find there (migration 0020).
  const dequeue = () => client.query("DELETE FROM audit_queue WHERE event_id = ANY($1::uuid[])", [taken]);
  if (fresh.length === 0) {
    await dequeue();
    return { appended: 0, duplicates: logged.size, size: state.size, signed };
  }

  const batch = encodeLeaves(state, fresh);
  // One statement for the whole batch: a row at a time would cost a round trip each. The bytes go as one
  // binary parameter per column (concatenated, split by offsets server-side): a bytea[] parameter would be sent
  // hex-escaped as text, doubling what crosses the socket and costing the writer's CPU.
  const leafEnds = cumulative(batch.leaves.map((leaf) => leaf.length));
  await client.query(
    `INSERT INTO audit_log (idx, event_id, leaf, leaf_hash, chain_hash, event_time)
     SELECT $1::bigint + i - 1, event_ids[i],
            substring($3::bytea FROM (CASE WHEN i = 1 THEN 0 ELSE ends[i - 1] END) + 1 FOR ends[i] - (CASE WHEN i = 1 THEN 0 ELSE ends[i - 1] END)),
            substring($5::bytea FROM (i - 1) * 32 + 1 FOR 32),
            substring($6::bytea FROM (i - 1) * 32 + 1 FOR 32),
            times[i]
       FROM (SELECT $2::uuid[] AS event_ids, $4::int[] AS ends, $7::timestamptz[] AS times) AS columns,
            generate_series(1, cardinality($2::uuid[])) AS i`,
    [
      batch.indexes[0],
      fresh.map((row) => row.event_id),
      Buffer.concat(batch.leaves),
      leafEnds,
      Buffer.concat(batch.leafHashes),
      Buffer.concat(batch.chainHashes),
      batch.eventTimes,
    ],
  );
  await dequeue();
  const { nodes } = batch;
  if (nodes.levels.length > 0) {
    // The subtree hashes that proofs read instead of leaves (migration 0003): the same binary form as the leaves.
    await client.query(
      `INSERT INTO audit_tree_nodes (level, idx, hash)
       SELECT levels[i], idxs[i], substring($3::bytea FROM (i - 1) * 32 + 1 FOR 32)
         FROM (SELECT $1::smallint[] AS levels, $2::bigint[] AS idxs) AS columns,
              generate_series(1, cardinality($1::smallint[])) AS i`,
      [nodes.levels, nodes.indexes, Buffer.concat(nodes.hashes)],
    );
  }
  const { range, chain } = batch;
  await client.query("UPDATE audit_sequencer SET size = $1, frontier = $2::bytea[], chain_hash = $3", [range.size, range.hashes, chain]);
  const root = range.root();
  const note = signCheckpoint({ origin: options.origin, size: range.size, root }, options.signer);
  await client.query("INSERT INTO audit_checkpoints (size, root, note) VALUES ($1, $2, $3)", [range.size, root, note]);
  return { appended: fresh.length, duplicates: logged.size, size: range.size, signed: { size: range.size, root, chain } };
}

/**
 * The tree the log's last checkpoint signed, read from its note (never the root column beside it) with its signature
 * checked against the log's keys, and the chain link of its last leaf. An empty log has signed nothing yet.
 */
async function lastSigned(client: pg.ClientBase, options: BatchOptions): Promise<Signed> {
  const row = (await client.query<{ note: string }>("SELECT note FROM audit_checkpoints ORDER BY size DESC LIMIT 1")).rows[0];
  if (row === undefined) return { size: 0, root: EMPTY_TREE_ROOT, chain: GENESIS_CHAIN_HASH };
  const trusted = options.trusted ?? [options.signer];
  let checkpoint: Checkpoint | undefined;
  let signedBy: NoteVerifier | undefined;
  for (const key of trusted) {
    try {
      checkpoint = verifyCheckpoint(row.note, key);
      signedBy = key;
      break;
    } catch {
      // Another of the log's keys may have signed it.
    }
  }
  if (checkpoint === undefined || signedBy === undefined || checkpoint.origin !== options.origin) {
    throw new AuditStateError("the log's last checkpoint does not verify with the log's keys: the audit tables were changed outside the sequencer; nothing is signed until an operator looks");
  }
  if (!signedBy.publicKey.equals(options.signer.publicKey) && !(await rotationQueued(client, signedBy))) {
    throw new AuditStateError(
      "the log's last checkpoint is signed by a retired key whose rotation is not waiting in the queue: a retired key signs nothing after its rotation " +
        "(its private key is deleted), so this checkpoint was written by someone holding it; nothing is signed until an operator looks",
    );
  }
  const last = (await client.query<{ chain_hash: Buffer }>("SELECT chain_hash FROM audit_log WHERE idx = $1", [checkpoint.size - 1])).rows[0];
  if (last === undefined) throw new AuditStateError(`the log's last checkpoint signs ${checkpoint.size} entries but entry ${checkpoint.size - 1} is missing`);
  return { size: checkpoint.size, root: checkpoint.root, chain: last.chain_hash };
}

/** A public key as key.rotated events name it: its JWK's `x`, the raw Ed25519 key in base64url. */
const jwkX = (key: KeyObject) => rawEd25519PublicKey(key).toString("base64url");

/**
 * Whether a queued event is the key.rotated that retires `key`. The key it retires signs trees up to the leaf before
 * it and never one holding it (FORMAT.md §6): the verifiers refuse such a tree, so a sequencer still running with the
 * old key after `atomic keys rotate` must stop short of it rather than sign what every auditor would refuse.
 */
function retiresKey(row: QueuedRow, key: NoteSigner): boolean {
  if (!row.event.includes('"kind":"key.rotated"')) return false;
  const detail = (JSON.parse(row.event) as { kind?: string; detail?: { previousKey?: unknown } }).detail;
  return detail?.previousKey === jwkX(createPublicKey(key.privateKey));
}

/**
 * Whether the key.rotated event retiring `key` is queued, not yet in the log: the one moment a retired key's
 * checkpoint is the log's last (the gateway restarted after `atomic keys rotate`, its first batch not yet signed).
 * Once that leaf is sequenced, the new key signs every checkpoint: a retired key's later one is a forger's, and
 * extending it would sign their tree with the log's key. The queue holds canonical JSON, so the members are exact text.
 */
async function rotationQueued(client: pg.ClientBase, key: NoteVerifier): Promise<boolean> {
  const x = jwkX(key.publicKey);
  const result = await client.query(
    `SELECT 1 FROM audit_queue WHERE strpos(event, '"kind":"key.rotated"') > 0 AND strpos(event, $1) > 0 LIMIT 1`,
    [`"previousKey":"${x}"`],
  );
  return (result.rowCount ?? 0) > 0;
}

/**
 * The next checkpoint must extend the last: the stored size, right edge and chain link must be those of the tree
 * last signed. A DBA's UPDATE of audit_sequencer, or a rewritten history with the state recomputed to match, would
 * otherwise be signed with the log's own key.
 */
function assertStateIsSigned(state: SequencerState, signed: Signed): void {
  const root = state.size === 0 ? EMPTY_TREE_ROOT : state.range.root();
  if (state.size !== signed.size || !root.equals(signed.root) || !state.chain.equals(signed.chain)) {
    throw new AuditStateError(`the stored sequencer state (size ${state.size}) does not describe the tree the log last signed (size ${signed.size}): it was changed outside the sequencer; nothing is signed until an operator looks`);
  }
}

interface SequencerState {
  size: number;
  range: CompactRange;
  chain: Buffer;
}

/** Locking the row first serialises batches: a stale leader waits here behind a new one, then sees its epoch. */
async function lockState(client: pg.ClientBase, epoch: number): Promise<SequencerState> {
  const row = (await client.query<SequencerRow>("SELECT epoch, size, frontier, chain_hash FROM audit_sequencer FOR UPDATE")).rows[0];
  if (row === undefined) throw new Error("audit_sequencer has no row: the audit migration did not run");
  if (Number(row.epoch) !== epoch) throw new FencedError(epoch, Number(row.epoch));
  const size = Number(row.size);
  return { size, range: CompactRange.from(size, row.frontier), chain: row.chain_hash };
}

async function alreadyLogged(client: pg.ClientBase, eventIds: string[]): Promise<Set<string>> {
  const result = await client.query<{ event_id: string }>("SELECT event_id FROM audit_log WHERE event_id = ANY($1::uuid[])", [eventIds]);
  return new Set(result.rows.map((row) => row.event_id));
}

/**
 * The leaves that continue the log from `state`, in queue order, as columns for one INSERT, and the subtrees of
 * stored levels (multiples of TILE_HEIGHT) that they complete. The right edge carried in audit_sequencer holds the
 * left part of a subtree begun by earlier batches, so a subtree straddling batches needs no leaf read back.
 */
function encodeLeaves(state: SequencerState, rows: QueuedRow[]) {
  let { range, chain } = state;
  const nodes = { levels: [] as number[], indexes: [] as number[], hashes: [] as Buffer[] };
  const keepStored = (level: number, index: number, hash: Buffer) => {
    if (level > 0 && level % TILE_HEIGHT === 0) {
      nodes.levels.push(level);
      nodes.indexes.push(index);
      nodes.hashes.push(hash);
    }
  };
  const indexes: number[] = [];
  const leaves: Buffer[] = [];
  const leafHashes: Buffer[] = [];
  const chainHashes: Buffer[] = [];
  const eventTimes: string[] = [];
  for (const row of rows) {
    const index = state.size + leaves.length;
    const { leaf, event } = encodeLeafFromText(index, chain, row.event);
    const hash = leafHash(leaf);
    chain = chainHash(leaf);
    range = range.append(hash, keepStored);
    indexes.push(index);
    leaves.push(leaf);
    leafHashes.push(hash);
    chainHashes.push(chain);
    eventTimes.push(event.time);
  }
  return { indexes, leaves, leafHashes, chainHashes, eventTimes, range, chain, nodes };
}

/** Running totals: where each of the concatenated leaves ends. */
function cumulative(lengths: number[]): number[] {
  let total = 0;
  return lengths.map((length) => (total += length));
}
