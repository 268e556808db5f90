import { performance } from "node:perf_hooks";
import type { LlamaContext, LlamaContextSequence, LlamaModel } from "node-llama-cpp";

/**
 * The contexts of one model host, per adapter set. llama.cpp applies LoRA adapters to a whole context, so requests
 * with different adapters cannot share one: the host keeps the base context (no adapter, created at load) and at
 * most `maxAdapterContexts` contexts with one adapter each. Each has the base context's sequences, so a request
 * admitted by the gate always finds a free sequence in its context, and KV state never crosses adapters.
 *
 * A context for an adapter not resident costs a context creation (≈0.1 s for SmolLM2) and the memory of its KV
 * cache (the same as the base context's: ≈180 MB for SmolLM2 at 2 × 4096 tokens); the least recently used idle
 * one makes room, and any left idle for `idleMs` is freed. When every adapter context is busy with other adapters,
 * a request waits for one to go idle. The adapter weights themselves stay loaded until the host restarts
 * (node-llama-cpp 3.21.1 frees LoRA weights only with the model); a fitted adapter is tens of KB.
 */

export interface AdapterSet {
  /** Identifies the adapter and its scale: two requests share a context only when these are equal. */
  key: string;
  path: string;
  scale: number;
}

/** llama.cpp would not create a context with the adapter (the file passed verification, so this is rare). */
export class AdapterContextError extends Error {
  readonly code = "adapter_load_failed";
}

export interface SequenceLease {
  sequence: LlamaContextSequence;
  release(): void;
}

export interface ContextPoolOptions {
  sequences: number;
  contextSize: number;
  threads: number;
  maxAdapterContexts: number;
  idleMs: number;
  /** Told about each adapter context created (with how long it took) or freed, for the host's log. */
  onEvent?: (event: { kind: "created" | "freed"; key: string; ms?: number; reason?: "idle" | "room" }) => void;
}

interface Pooled {
  key: string;
  context: LlamaContext;
  free: LlamaContextSequence[];
  leased: number;
  lastUsed: number;
}

export class ContextPool {
  private readonly base: Pooled;
  /** Adapter contexts, least recently used first; a context being created is held as its promise. */
  private readonly adapters = new Map<string, Pooled | Promise<Pooled>>();
  private waiters: Array<() => void> = [];
  private readonly sweeper: NodeJS.Timeout;

  private constructor(private readonly model: LlamaModel, base: LlamaContext, private readonly options: ContextPoolOptions) {
    this.base = pooled("", base, options.sequences);
    this.sweeper = setInterval(() => this.freeIdle(), Math.max(1000, options.idleMs / 2));
    this.sweeper.unref();
  }

  static async create(model: LlamaModel, options: ContextPoolOptions): Promise<ContextPool> {
    const base = await model.createContext({ sequences: options.sequences, contextSize: options.contextSize, threads: options.threads });
    return new ContextPool(model, base, options);
  }

  /** A free sequence of the context for `adapter` (null: the base context), waiting for room when needed. */
  async lease(adapter: AdapterSet | null, signal?: AbortSignal): Promise<SequenceLease> {
    if (adapter === null) return this.take(this.base);
    for (;;) {
      signal?.throwIfAborted();
      const existing = this.adapters.get(adapter.key);
      if (existing instanceof Promise) {
        // Created by a request just before; the loop looks again (it may have failed, or been freed meanwhile).
        await existing.catch(() => undefined);
        continue;
      }
      if (existing) {
        // Most recently used goes last.
        this.adapters.delete(adapter.key);
        this.adapters.set(adapter.key, existing);
        return this.take(existing);
      }
      if (this.adapters.size >= this.options.maxAdapterContexts) {
        if (!(await this.makeRoom())) await this.nextRelease(signal);
        continue;
      }
      const creating = this.createFor(adapter);
      this.adapters.set(adapter.key, creating);
      try {
        this.adapters.set(adapter.key, await creating);
      } catch (error) {
        this.adapters.delete(adapter.key);
        this.wake();
        throw error;
      }
    }
  }

  /** Adapter contexts resident now. */
  get adapterContexts(): number {
    return this.adapters.size;
  }

  async dispose(): Promise<void> {
    clearInterval(this.sweeper);
    const entries = await Promise.allSettled([...this.adapters.values()]);
    await Promise.all(entries.flatMap((e) => (e.status === "fulfilled" ? [e.value.context.dispose()] : [])));
    await this.base.context.dispose();
  }

  private take(entry: Pooled): SequenceLease {
    const sequence = entry.free.pop();
    // The gateway admits at most `sequences` requests at once and every context has that many, so one is free.
    if (!sequence) throw new Error("no free context sequence (admission control out of step)");
    entry.leased++;
    let released = false;
    return {
      sequence,
      release: () => {
        if (released) return;
        released = true;
        entry.free.push(sequence);
        entry.leased--;
        entry.lastUsed = performance.now();
        this.wake();
      },
    };
  }

  private async createFor(adapter: AdapterSet): Promise<Pooled> {
    const started = performance.now();
    let context: LlamaContext;
    try {
      context = await this.model.createContext({
        sequences: this.options.sequences,
        contextSize: this.options.contextSize,
        threads: this.options.threads,
        lora: { adapters: [{ filePath: adapter.path, scale: adapter.scale }] },
      });
    } catch (error) {
      throw new AdapterContextError(`a context with adapter ${adapter.key} could not be created: ${(error as Error).message}`);
    }
    this.options.onEvent?.({ kind: "created", key: adapter.key, ms: performance.now() - started });
    return pooled(adapter.key, context, this.options.sequences);
  }

  /** Frees the least recently used idle adapter context; false when every one is busy or being created. */
  private async makeRoom(): Promise<boolean> {
    for (const [key, entry] of this.adapters) {
      if (entry instanceof Promise || entry.leased > 0) continue;
      this.adapters.delete(key);
      await entry.context.dispose();
      this.options.onEvent?.({ kind: "freed", key, reason: "room" });
      return true;
    }
    return false;
  }

  private freeIdle(): void {
    const now = performance.now();
    for (const [key, entry] of this.adapters) {
      if (entry instanceof Promise || entry.leased > 0 || now - entry.lastUsed < this.options.idleMs) continue;
      this.adapters.delete(key);
      void entry.context.dispose();
      this.options.onEvent?.({ kind: "freed", key, reason: "idle" });
    }
  }

  private nextRelease(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.waiters = this.waiters.filter((w) => w !== wake);
        reject(signal!.reason);
      };
      const wake = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      this.waiters.push(wake);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

function pooled(key: string, context: LlamaContext, sequences: number): Pooled {
  return { key, context, free: Array.from({ length: sequences }, () => context.getSequence()), leased: 0, lastUsed: performance.now() };
}
