import { performance } from "node:perf_hooks";
import { InferenceAbortedError, QueueFullError } from "./errors.js";

export interface AdmissionOptions {
  /** Requests served at once (one per context sequence). */
  concurrency: number;
  /** Requests allowed to wait for a sequence; one more is refused at once rather than left hanging. */
  maxQueue: number;
  /** How long a request may wait in the queue before it is refused. */
  queueTimeoutMs: number;
}

export interface Admission {
  waitedMs: number;
  /** Frees the slot; `serviceMs` feeds the Retry-After estimate. */
  release(serviceMs: number): void;
}

interface Waiter {
  grant: () => void;
  fail: (error: Error) => void;
}

/**
 * Bounded admission for one model: at most `concurrency` in service and `maxQueue` waiting, first come first
 * served. A full queue or a queue timeout refuses with QueueFullError, which carries a Retry-After estimate.
 */
export class AdmissionGate {
  private inService = 0;
  private readonly waiting: Waiter[] = [];
  private idleWaiters: Array<() => void> = [];
  // Exponentially weighted mean service time, seeded with a guess so the first Retry-After is not zero.
  private meanServiceMs = 1000;

  constructor(private readonly modelId: string, private readonly options: AdmissionOptions) {}

  get inFlight(): number {
    return this.inService;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Resolves once nothing is in service or waiting: a draining model's last request is done. */
  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private isIdle(): boolean {
    return this.inService === 0 && this.waiting.length === 0;
  }

  private tellIfIdle(): void {
    if (!this.isIdle() || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Seconds until a slot is likely free, given the queue ahead and the recent service time. */
  retryAfterSeconds(): number {
    const ahead = this.waiting.length + 1;
    return Math.max(1, Math.ceil((ahead * this.meanServiceMs) / this.options.concurrency / 1000));
  }

  acquire(signal?: AbortSignal): Promise<Admission> {
    if (signal?.aborted) return Promise.reject(new InferenceAbortedError());
    const enqueuedAt = performance.now();
    const admission = (): Admission => {
      let released = false;
      return {
        waitedMs: performance.now() - enqueuedAt,
        release: (serviceMs: number) => {
          if (released) return;
          released = true;
          this.meanServiceMs = this.meanServiceMs * 0.8 + serviceMs * 0.2;
          this.inService--;
          this.waiting.shift()?.grant();
          this.tellIfIdle();
        },
      };
    };
    if (this.inService < this.options.concurrency && this.waiting.length === 0) {
      this.inService++;
      return Promise.resolve(admission());
    }
    if (this.waiting.length >= this.options.maxQueue) {
      return Promise.reject(new QueueFullError(this.modelId, this.retryAfterSeconds()));
    }
    return new Promise<Admission>((resolve, reject) => {
      const leave = (error: Error) => {
        const index = this.waiting.indexOf(waiter);
        if (index >= 0) this.waiting.splice(index, 1);
        cleanup();
        reject(error);
        this.tellIfIdle();
      };
      const onAbort = () => leave(new InferenceAbortedError());
      const timer = setTimeout(() => leave(new QueueFullError(this.modelId, this.retryAfterSeconds())), this.options.queueTimeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      const waiter: Waiter = {
        grant: () => {
          cleanup();
          this.inService++;
          resolve(admission());
        },
        fail: leave,
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  /** Refuses everyone still waiting (the model went down). */
  rejectWaiting(error: Error): void {
    for (const waiter of [...this.waiting]) waiter.fail(error);
  }
}
