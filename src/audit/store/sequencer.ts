import type { Pool, PoolClient } from "pg";
import type { SigningKey } from "../core/keys.js";
import type { NoteVerifier } from "../core/checkpoint.js";
import { sequenceBatch, SignedHead } from "./batch.js";
import { queueIsEmpty } from "./queue.js";

/**
 * Session advisory lock that elects the one sequencer; "auditseq" in ASCII. Any constant all versions agree on
 * would do, as long as it differs from the migration lock.
 */
const LEADER_LOCK_KEY = 7022629598042219889n;

export interface AuditSequencerOptions {
  pool: Pool;
  key: SigningKey;
  /** The log's earlier keys (rotated out): the last checkpoint may be one of theirs. */
  retired?: NoteVerifier[];
  /** The log's origin line in every checkpoint it signs. */
  origin: string;
  /** Events per batch (one transaction, one checkpoint). Default 1000. */
  batchSize?: number;
  /** How long the leader waits when the queue is empty, and drain() between looks. Default 100 ms. */
  intervalMs?: number;
  /** How often a standby (or a leader that failed) tries for leadership. Default 2000 ms. */
  electionIntervalMs?: number;
  logger?: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void };
  /** Told when this sequencer wins or gives up the leadership. */
  onLeadership?: (leader: boolean) => void;
}

interface Leadership {
  /** Holds the advisory lock for as long as it lives; batches run on it too, so they never outlive the lock. */
  client: PoolClient;
  epoch: number;
  /** What this leader last signed: each batch checks the stored state still describes it (batch.ts). */
  head: SignedHead;
  /** Set when the connection fails between batches; the next batch would fail on it anyway. */
  lost: Error | null;
  onError: (error: Error) => void;
}

/**
 * Candidate sequencer: every gateway process runs one, the one holding the advisory lock sequences, the others
 * stand by and try again every electionIntervalMs. On winning, the leader bumps audit_sequencer.epoch and every
 * batch commits only while the table still holds that epoch, so a leader that lost its lock without noticing
 * cannot fork the log. Any failure of a batch makes the leader step down (its connection is discarded, which
 * also frees the lock) and campaign again.
 */
export class AuditSequencer {
  private readonly pool: Pool;
  private readonly batchSize: number;
  private readonly intervalMs: number;
  private readonly electionIntervalMs: number;
  private running = false;
  private loop: Promise<void> | null = null;
  private leadership: Leadership | null = null;
  private readonly sleepers = new Set<() => void>();

  constructor(private readonly options: AuditSequencerOptions) {
    this.pool = options.pool;
    this.batchSize = options.batchSize ?? 1000;
    this.intervalMs = options.intervalMs ?? 100;
    this.electionIntervalMs = options.electionIntervalMs ?? 2000;
  }

  get isLeader(): boolean {
    return this.leadership !== null;
  }

  /** The fencing epoch while leading, else null. */
  get epoch(): number | null {
    return this.leadership?.epoch ?? null;
  }

  /**
   * Resolves once the first election has been tried (won or not), so callers know whether this process leads;
   * rejects, leaving nothing running, if the database cannot be asked at all.
   */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    let first: Leadership | null;
    try {
      first = await this.campaign();
    } catch (error) {
      this.running = false;
      throw error;
    }
    this.loop = this.run(first);
  }

  /** Lets the current batch finish, then gives up leadership (and the lock) and stops campaigning. */
  async stop(): Promise<void> {
    this.running = false;
    this.wakeSleepers();
    await this.loop;
    this.loop = null;
  }

  /**
   * Resolves when the queue is empty: every event committed before the call is in the log. Whichever process
   * leads does the work, so a standby can drain too; rejects if this sequencer is stopped meanwhile.
   */
  async drain(): Promise<void> {
    for (;;) {
      if (!this.running) throw new Error("the audit sequencer is not running: start() it before drain()");
      if (await queueIsEmpty(this.pool)) return;
      await this.sleep(this.intervalMs);
    }
  }

  private async run(first: Leadership | null): Promise<void> {
    let candidate = first;
    for (;;) {
      if (candidate !== null) await this.lead(candidate);
      if (!this.running) return;
      await this.sleep(this.electionIntervalMs);
      if (!this.running) return;
      candidate = await this.campaign().catch((error: unknown) => {
        this.options.logger?.warn({ err: error }, "audit sequencer election failed");
        return null;
      });
    }
  }

  /** Tries for the lock once; on winning, takes the next epoch. */
  private async campaign(): Promise<Leadership | null> {
    const client = await this.pool.connect();
    const leadership: Leadership = { client, epoch: 0, head: new SignedHead(), lost: null, onError: () => undefined };
    // A checked-out client that errors with no listener would crash the process.
    leadership.onError = (error: Error) => {
      leadership.lost = error;
      this.wakeSleepers();
    };
    client.on("error", leadership.onError);
    try {
      const lock = await client.query<{ won: boolean }>(`SELECT pg_try_advisory_lock(${LEADER_LOCK_KEY}) AS won`);
      if (lock.rows[0]?.won !== true) {
        client.off("error", leadership.onError);
        client.release();
        return null;
      }
      const bumped = await client.query<{ epoch: string }>("UPDATE audit_sequencer SET epoch = epoch + 1 RETURNING epoch");
      const epoch = bumped.rows[0]?.epoch;
      if (epoch === undefined) throw new Error("audit_sequencer has no row: the audit migration did not run");
      leadership.epoch = Number(epoch);
    } catch (error) {
      client.off("error", leadership.onError);
      client.release(error as Error);
      throw error;
    }
    this.leadership = leadership;
    this.options.logger?.info({ epoch: leadership.epoch }, "audit sequencer elected");
    this.options.onLeadership?.(true);
    return leadership;
  }

  /** Sequences until stopped or until a batch fails, then gives up leadership. */
  private async lead(leadership: Leadership): Promise<void> {
    let failure: Error | null = null;
    try {
      while (this.running) {
        if (leadership.lost !== null) throw leadership.lost;
        const outcome = await sequenceBatch(leadership.client, {
          epoch: leadership.epoch,
          batchSize: this.batchSize,
          signer: this.options.key,
          trusted: [this.options.key, ...(this.options.retired ?? [])],
          head: leadership.head,
          origin: this.options.origin,
        });
        if (outcome.duplicates > 0) {
          this.options.logger?.warn({ duplicates: outcome.duplicates }, "dropped queued audit events already in the log");
        }
        if (outcome.appended + outcome.duplicates === 0) await this.sleep(this.intervalMs);
      }
    } catch (error) {
      failure = error as Error;
      this.options.logger?.warn({ err: error, epoch: leadership.epoch }, "audit sequencer stepped down");
    }
    this.leadership = null;
    this.options.onLeadership?.(false);
    await resign(leadership, failure);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  private wakeSleepers(): void {
    for (const wake of [...this.sleepers]) wake();
  }
}

/** Frees the lock now when the connection is sound; otherwise discards it, and the server frees the lock. */
async function resign(leadership: Leadership, failure: Error | null): Promise<void> {
  const { client } = leadership;
  let broken = failure;
  if (broken === null) {
    await client.query(`SELECT pg_advisory_unlock(${LEADER_LOCK_KEY})`).catch((error: Error) => {
      broken = error;
    });
  }
  // A broken connection may still report its end after release: it keeps its listener, or that would crash.
  if (broken === null) client.off("error", leadership.onError);
  client.release(broken ?? undefined);
}
