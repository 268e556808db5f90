import { Worker } from "node:worker_threads";
import type { Pool } from "pg";
import type { NoteVerifier } from "../core/checkpoint.js";
import type { SigningKey } from "../core/keys.js";
import type { SequencerWorkerData, ToMainThread, ToWorker } from "./sequencer-protocol.js";
import { queueIsEmpty } from "./queue.js";
import { siblingEntry } from "../../util/sibling-entry.js";

export interface SequencerThreadOptions {
  /** The worker opens its own connections: a pg Pool cannot cross threads. */
  databaseUrl: string;
  /** This thread's pool, for drain() only. */
  pool: Pool;
  key: SigningKey;
  /** The log's earlier keys (rotated out): the last checkpoint may be one of theirs. */
  retired?: NoteVerifier[];
  origin: string;
  batchSize?: number;
  intervalMs?: number;
  electionIntervalMs?: number;
  /** Before a worker that died is started again. Default 1000 ms. */
  restartDelayMs?: number;
  logger?: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void; error(obj: object, msg?: string): void };
}

const STOP_GRACE_MS = 10_000;

/**
 * The audit sequencer on a worker thread of its own. Sequencing parses, encodes and hashes every event and signs a
 * checkpoint per batch: on the request thread, a batch of a thousand held the event loop for milliseconds, which
 * delayed every request's commit acknowledgment behind it (16 writers reached 7.1k appends/s with the sequencer
 * in-process, ~10k with it elsewhere). The worker is a candidate like any other process's sequencer; a worker
 * that dies is logged and started again, and what it had not sequenced stays durably queued meanwhile.
 */
export class SequencerThread {
  private worker: Worker | null = null;
  private running = false;
  private restartTimer: NodeJS.Timeout | null = null;
  private leader = false;

  constructor(private readonly options: SequencerThreadOptions) {}

  /** Whether the worker's sequencer holds the leadership, as it last reported. */
  get isLeader(): boolean {
    return this.leader;
  }

  /** Resolves once the worker ran its first election; rejects (nothing left running) if it could not. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await this.spawn();
    } catch (error) {
      this.running = false;
      throw error;
    }
  }

  /** Lets the current batch finish, then the worker gives up leadership and exits. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.restartTimer !== null) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    const worker = this.worker;
    this.worker = null;
    if (worker === null) return;
    const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
    const grace = setTimeout(() => void worker.terminate(), STOP_GRACE_MS);
    worker.on("message", (message: ToMainThread) => {
      if (message.type === "stopped") void worker.terminate();
    });
    worker.postMessage({ type: "stop" } satisfies ToWorker);
    await exited;
    clearTimeout(grace);
  }

  /** Resolves when the queue is empty; whichever process leads does the work. Rejects once stopped. */
  async drain(): Promise<void> {
    const intervalMs = this.options.intervalMs ?? 100;
    for (;;) {
      if (!this.running) throw new Error("the audit sequencer is not running: start() it before drain()");
      if (await queueIsEmpty(this.options.pool)) return;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }

  private spawn(): Promise<void> {
    const { pool: _pool, logger: _logger, restartDelayMs: _restartDelayMs, ...rest } = this.options;
    const data: SequencerWorkerData = rest;
    const worker = startWorker(data);
    this.worker = worker;
    const logger = this.options.logger;
    return new Promise<void>((resolve, reject) => {
      let started = false;
      worker.on("message", (message: ToMainThread) => {
        if (message.type === "log") logger?.[message.level](message.obj, message.msg);
        else if (message.type === "leadership") this.leader = message.leader;
        else if (message.type === "started") {
          started = true;
          resolve();
        } else if (message.type === "failed") reject(new Error(`audit sequencer could not start: ${message.error}`));
      });
      worker.on("error", (error) => {
        if (!started) reject(error);
        else logger?.error({ err: error }, "audit sequencer thread failed");
      });
      worker.on("exit", (code) => {
        // A worker that is gone leads nothing: its connection, and the lock with it, went when it exited.
        if (this.worker === worker || this.worker === null) this.leader = false;
        if (!started) reject(new Error(`audit sequencer thread exited with ${code} before it started`));
        else if (this.worker === worker && this.running) this.restartLater(code);
      });
    });
  }

  private restartLater(code: number): void {
    this.worker = null;
    this.options.logger?.error({ code }, "audit sequencer thread exited; queued events wait for its restart");
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (!this.running) return;
      this.spawn().catch((error: unknown) => {
        this.worker = null;
        if (!this.running) return;
        this.options.logger?.error({ err: error }, "audit sequencer thread did not restart; trying again");
        this.scheduleRestart();
      });
    }, this.options.restartDelayMs ?? 1000);
  }
}

/**
 * Built, the worker is the compiled sequencer-worker.js beside this file. Run from source (tests, tsx), it is
 * TypeScript, which a worker can load only after registering the same loader the main thread runs under (unless a
 * compiled copy of the source is at hand: ../../util/sibling-entry.ts).
 */
function startWorker(data: SequencerWorkerData): Worker {
  const entry = siblingEntry(import.meta.url, "sequencer-worker");
  if (!entry.needsLoader) return new Worker(entry.url, { workerData: data });
  const loader = import.meta.resolve("tsx/esm/api");
  const boot = `import { register } from ${JSON.stringify(loader)}; register(); await import(${JSON.stringify(entry.url.href)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(boot)}`), { workerData: data });
}
