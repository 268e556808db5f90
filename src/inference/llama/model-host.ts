import { fork, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { performance } from "node:perf_hooks";
import type { Logger } from "../../observability/logger.js";
import type { HandedSpan } from "../../observability/tracing/handover.js";
import { activeTraceparent } from "../../observability/tracing/spans.js";
import { AdmissionGate, type Admission, type AdmissionOptions } from "../admission.js";
import { InferenceAbortedError, InferenceError, ModelUnavailableError } from "../errors.js";
import type { CallOptions, EmbeddingResult, GenerationInput, GenerationParams, GenerationResult, ModelState, ModelStatus } from "../interface.js";
import type { ChildMessage, LoadSpec, ParentMessage } from "./protocol.js";
import { childProcessEntry } from "../../util/sibling-entry.js";

/**
 * What happened to a model, for the audit log: loaded (with its verified digest), refused, its host died, or its
 * file changed after it was loaded (code model_file_changed; audited as a refusal of the file).
 */
export interface ModelLifecycleEvent {
  modelId: string;
  sha256: string;
  kind: "loaded" | "refused" | "crashed" | "file-changed";
  code?: string;
  reason?: string;
}

export interface ModelHostOptions {
  spec: LoadSpec;
  onLifecycle?: (event: ModelLifecycleEvent) => void;
  admission: AdmissionOptions;
  logger: Logger;
  /** Delay before restarting a host that crashed after it had loaded; doubles per crash up to 30 s. */
  restartDelayMs?: number;
  /** Spans the host made for traced requests, to export with the gateway's (src/observability/tracing/handover.ts). */
  onSpans?: (spans: HandedSpan[]) => void;
}

interface Pending {
  resolve: (message: ChildMessage) => void;
  reject: (error: Error) => void;
  onText?: (chunk: string) => void;
}

/** Crashes while loading that mean the file itself is the problem, not bad luck. */
const MAX_LOAD_CRASHES = 2;
const MAX_RESTART_DELAY_MS = 30_000;

/**
 * Supervises the child process that holds one model: starts it, verifies and loads the model there, routes
 * requests through a bounded admission gate, and restarts the child when it dies. A model that cannot be loaded
 * (digest mismatch, malformed file, crash on load) is marked failed and the gateway goes on serving the others.
 */
export class ModelHost {
  private child: ChildProcess | undefined;
  private state: ModelState = "stopped";
  private reason: { code: string; text: string } | undefined;
  private readonly gate: AdmissionGate;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private loadCrashes = 0;
  private restartDelayMs: number;
  private restartTimer: NodeJS.Timeout | undefined;
  private settled!: Promise<void>;
  private settle: () => void = () => {};
  /** The content last reported for this host's file after its load (unread: the pin's; null: no file). */
  private reportedDigest: string | null;

  constructor(private readonly options: ModelHostOptions) {
    this.gate = new AdmissionGate(options.spec.modelId, options.admission);
    this.restartDelayMs = options.restartDelayMs ?? 500;
    this.reportedDigest = options.spec.sha256;
    this.resetSettled();
  }

  get id(): string {
    return this.options.spec.modelId;
  }

  get digest(): string {
    return this.options.spec.sha256;
  }

  status(): ModelStatus {
    return {
      id: this.id,
      state: this.state,
      ...(this.reason ? { reason: this.reason.text, reasonCode: this.reason.code } : {}),
      inFlight: this.gate.inFlight,
      queued: this.gate.queued,
    };
  }

  /** Resolves when the current load attempt ends, in success or failure. */
  whenSettled(): Promise<void> {
    return this.settled;
  }

  start(): Promise<void> {
    this.spawn();
    return this.settled;
  }

  private resetSettled(): void {
    this.settled = new Promise((resolve) => (this.settle = resolve));
  }

  private spawn(): void {
    const { path, execArgv } = childProcessEntry(import.meta.url, "child");
    const log = this.options.logger.child({ model: this.id });
    this.state = "loading";
    this.reason = undefined;
    const child = fork(path, [], {
      execArgv,
      serialization: "advanced",
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      env: { ...process.env, NODE_LLAMA_CPP_SKIP_DOWNLOAD: "true" },
    });
    this.child = child;
    for (const stream of [child.stdout, child.stderr]) {
      if (stream) createInterface({ input: stream }).on("line", (line) => log.warn({ source: "model-host" }, line));
    }
    // A child already replaced (reloadAfterChange) may still have messages in flight: they are not this host's now.
    child.on("message", (message: ChildMessage) => {
      if (child === this.child) this.onMessage(message, log);
    });
    child.on("exit", (code, signal) => this.onExit(child, code, signal, log));
    child.on("error", (error) => log.error({ err: error }, "model host process error"));
    child.send({ type: "load", spec: this.options.spec } satisfies ParentMessage);
  }

  private onMessage(message: ChildMessage, log: Logger): void {
    switch (message.type) {
      case "loaded":
        // A host stopped or drained while it loaded stays so; its process is on its way out.
        if (this.state !== "loading") return;
        this.state = "ready";
        // A reload after the file changed (reloadAfterChange) said why it was loading until now; the file it has
        // verified now holds the pinned bytes.
        this.reason = undefined;
        this.reportedDigest = this.digest;
        this.loadCrashes = 0;
        this.restartDelayMs = this.options.restartDelayMs ?? 500;
        log.info({ gpu: message.info.gpu, gpuLayers: message.info.gpuLayers, verifyMs: Math.round(message.info.verifyMs), loadMs: Math.round(message.info.loadMs) }, "model ready");
        this.options.onLifecycle?.({ modelId: this.id, sha256: this.digest, kind: "loaded" });
        this.settle();
        return;
      case "load-failed":
        if (this.state !== "loading") return;
        this.fail(message.code, message.reason);
        log.error({ code: message.code, reason: message.reason }, "model refused");
        this.child?.kill("SIGKILL");
        return;
      case "file-changed":
        this.onFileChanged(message, log);
        return;
      case "text":
        this.pending.get(message.id)?.onText?.(message.chunk);
        return;
      case "spans":
        this.options.onSpans?.(message.spans);
        return;
      case "adapter-context":
        // What an adapter switch costs, for operators sizing inference.maxAdapterContexts.
        log.info({ adapter: message.key, ...(message.ms === undefined ? {} : { ms: Math.round(message.ms) }), ...(message.reason ? { reason: message.reason } : {}) }, `adapter context ${message.kind}`);
        return;
      default: {
        const pending = this.pending.get(message.id);
        if (!pending) return;
        this.pending.delete(message.id);
        pending.resolve(message);
      }
    }
  }

  /**
   * The file this host loaded changed after it was verified (the child's watch: ./loaded-file-watch.ts).
   *
   * Mapped (models.mmap), the weights are the file's pages and may be other bytes now: the requests running and
   * queued fail with 503 model_file_changed, the process stops, and a new one verifies the file again and loads it
   * (its bytes the pin's: ready again; other bytes: refused as model_digest_mismatch).
   *
   * Read into memory (the default), the weights are still the verified ones and serve on. The child hashed what the
   * path names now: bytes other than the pin's are reported (log, audit, metric, and the status's reason with state
   * ready), since the next load (a restart after a crash, an unload and load, a gateway restart) will refuse them.
   */
  private onFileChanged(message: Extract<ChildMessage, { type: "file-changed" }>, log: Logger): void {
    const { path, sha256: pin, mmap } = this.options.spec;
    if (mmap) {
      if (this.state !== "ready" && this.state !== "draining") return;
      const text = `${path} changed while its weights were mapped (${message.detail}); it is being verified and loaded again`;
      log.error({ code: "model_file_changed", detail: message.detail }, "model file changed under its mapping: requests refused, reloading to verify it");
      this.options.onLifecycle?.({ modelId: this.id, sha256: pin, kind: "file-changed", code: "model_file_changed", reason: text });
      this.reloadAfterChange(text);
      return;
    }
    if (this.state !== "ready") return;
    if (message.sha256 === pin) {
      if (this.reason?.code === "model_file_changed") this.reason = undefined;
      this.reportedDigest = pin;
      log.info({ detail: message.detail }, "model file changed, but its bytes are the pinned ones");
      return;
    }
    // A file rewritten in several steps (a slow copy) is reported once per distinct content, not once per look.
    if (message.sha256 === this.reportedDigest) return;
    this.reportedDigest = message.sha256 ?? null;
    const now = message.sha256 === null || message.sha256 === undefined ? "it names no regular file now" : `its SHA-256 is now ${message.sha256}, the pin ${pin}`;
    const text = `${path} changed after it was verified and loaded (${message.detail}): ${now}. The verified weights this host read into memory serve on; the next load refuses the file unless its bytes are the pinned ones again`;
    this.reason = { code: "model_file_changed", text };
    log.error({ code: "model_file_changed", detail: message.detail, sha256: message.sha256 }, "model file no longer matches its pin; serving the verified copy loaded before");
    this.options.onLifecycle?.({ modelId: this.id, sha256: pin, kind: "file-changed", code: "model_file_changed", reason: text });
  }

  /** Mapped weights that may have changed: cut off what runs on them, and load the file again, which verifies it. */
  private reloadAfterChange(text: string): void {
    const refused = new ModelUnavailableError("model_file_changed", `model ${this.id} is unavailable: ${text}`);
    for (const pending of this.pending.values()) pending.reject(refused);
    this.pending.clear();
    this.gate.rejectWaiting(refused);
    // A draining host stops once its (now refused) requests have let go of the gate.
    if (this.state === "draining") return;
    const child = this.child;
    // Its exit is this reload, not a crash: onExit ignores a child that is no longer this.child.
    this.child = undefined;
    child?.kill("SIGKILL");
    this.resetSettled();
    this.spawn();
    this.reason = { code: "model_file_changed", text };
  }

  private fail(code: string, text: string): void {
    this.state = "failed";
    this.reason = { code, text };
    this.options.onLifecycle?.({ modelId: this.id, sha256: this.digest, kind: "refused", code, reason: text });
    this.gate.rejectWaiting(new ModelUnavailableError(code, `model ${this.id} is unavailable: ${text}`));
    this.settle();
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null, log: Logger): void {
    if (this.child !== child) return;
    this.child = undefined;
    const crash = new ModelUnavailableError("model_crashed", `model ${this.id} stopped while serving the request`);
    for (const pending of this.pending.values()) pending.reject(crash);
    this.pending.clear();
    if (this.state === "stopped" || this.state === "failed" || this.state === "draining" || this.state === "unloaded") return;

    const how = signal ? `signal ${signal}` : `exit code ${code}`;
    if (this.state === "loading") {
      this.loadCrashes++;
      log.error({ code, signal, attempt: this.loadCrashes }, "model host died while loading");
      if (this.loadCrashes >= MAX_LOAD_CRASHES) {
        this.fail("model_crashed_on_load", `llama.cpp terminated the model host while loading the file (${how})`);
        return;
      }
    } else {
      log.error({ code, signal, restartInMs: this.restartDelayMs }, "model host died; restarting");
      this.options.onLifecycle?.({ modelId: this.id, sha256: this.digest, kind: "crashed", code: "model_crashed", reason: how });
      this.state = "loading";
      this.reason = { code: "model_restarting", text: `model host died (${how}); restarting` };
      this.resetSettled();
    }
    this.gate.rejectWaiting(new ModelUnavailableError("model_restarting", `model ${this.id} is restarting`));
    const delay = this.restartDelayMs;
    this.restartDelayMs = Math.min(this.restartDelayMs * 2, MAX_RESTART_DELAY_MS);
    this.restartTimer = setTimeout(() => this.spawn(), delay);
  }

  private assertReady(): void {
    if (this.state === "ready") return;
    if (this.state === "draining" || this.state === "unloaded") throw new ModelUnavailableError("model_unloaded", `model ${this.id} is unloaded`);
    if (this.reason) throw new ModelUnavailableError(this.reason.code, `model ${this.id} is unavailable: ${this.reason.text}`);
    throw new ModelUnavailableError("model_loading", `model ${this.id} is still loading`);
  }

  /** Sends one request to the child once admitted, and settles with the child's answer. */
  private async call(build: (id: number) => ParentMessage, options: CallOptions): Promise<{ message: ChildMessage; admission: Admission }> {
    this.assertReady();
    const admission = await this.gate.acquire(options.signal);
    const started = performance.now();
    const child = this.child;
    // A draining host still serves what it admitted before it began to drain.
    if ((this.state !== "ready" && this.state !== "draining") || !child) {
      admission.release(0);
      this.assertReady();
      throw new ModelUnavailableError("model_restarting", `model ${this.id} is restarting`);
    }
    const id = this.nextId++;
    const onAbort = () => child?.connected && child.send({ type: "abort", id } satisfies ParentMessage);
    options.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const message = await new Promise<ChildMessage>((resolve, reject) => {
        this.pending.set(id, { resolve, reject, onText: options.onText });
        child!.send(build(id));
      });
      return { message, admission };
    } finally {
      options.signal?.removeEventListener("abort", onAbort);
      admission.release(performance.now() - started);
    }
  }

  async generate(input: GenerationInput, params: GenerationParams, options: CallOptions = {}): Promise<GenerationResult> {
    const stream = options.onText !== undefined;
    // The host makes its span for the generation a child of the caller's (the pipeline's infer step).
    const traceparent = activeTraceparent();
    const { message, admission } = await this.call((id) => ({ type: "generate", id, input, params, stream, ...(traceparent === undefined ? {} : { traceparent }) }), options);
    if (message.type === "generated") {
      return {
        text: message.text,
        finishReason: message.finishReason,
        promptTokens: message.promptTokens,
        completionTokens: message.completionTokens,
        queueMs: admission.waitedMs,
        inferenceMs: message.inferenceMs,
        ...(message.logprobs === undefined ? {} : { logprobs: message.logprobs }),
      };
    }
    throw this.toError(message, options.signal);
  }

  async embed(inputs: string[], options: CallOptions = {}): Promise<EmbeddingResult> {
    const { message, admission } = await this.call((id) => ({ type: "embed", id, inputs }), options);
    if (message.type === "embedded") {
      return { vectors: message.vectors, promptTokens: message.promptTokens, queueMs: admission.waitedMs, inferenceMs: message.inferenceMs };
    }
    throw this.toError(message, options.signal);
  }

  private toError(message: ChildMessage, signal: AbortSignal | undefined): Error {
    if (signal?.aborted || (message.type === "failed" && message.code === "request_aborted")) return new InferenceAbortedError();
    if (message.type === "failed") return new InferenceError(message.code, message.message);
    return new InferenceError("inference_failed", `unexpected reply ${message.type} from the model host`);
  }

  async close(): Promise<void> {
    this.state = "stopped";
    clearTimeout(this.restartTimer);
    this.gate.rejectWaiting(new ModelUnavailableError("model_stopped", `model ${this.id} is shutting down`));
    await this.stopChild();
    // Whoever waits for a load that will not end now is let go.
    this.settle();
  }

  /**
   * Takes no more requests, lets those it admitted or queued finish, then stops the process, which frees the
   * model's memory. Work still there after `timeoutMs` fails with `model_drain_timeout` (503). Resolves with how
   * many requests were cut off; a host that was not serving (loading, failed) stops at once.
   */
  async drain(timeoutMs: number): Promise<{ aborted: number }> {
    if (this.state === "stopped" || this.state === "unloaded" || this.state === "draining") return { aborted: 0 };
    this.state = "draining";
    this.reason = undefined;
    clearTimeout(this.restartTimer);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.gate.whenIdle().then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs))),
    ]);
    clearTimeout(timer);
    let aborted = 0;
    if (timedOut) {
      aborted = this.gate.inFlight + this.gate.queued;
      const cutOff = new ModelUnavailableError("model_drain_timeout", `model ${this.id} was unloaded before the request finished (drain timeout ${timeoutMs} ms)`);
      this.gate.rejectWaiting(cutOff);
      for (const pending of this.pending.values()) pending.reject(cutOff);
      this.pending.clear();
    }
    await this.stopChild();
    // close() during the drain (the gateway shutting down) has the last word.
    if (this.state === "draining") this.state = "unloaded";
    this.settle();
    return { aborted };
  }

  private async stopChild(): Promise<void> {
    const child = this.child;
    if (!child) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      child.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill("SIGTERM");
    });
  }

  /** For tests and operators: the host's process id, so a crash can be produced for real. */
  get pid(): number | undefined {
    return this.child?.pid;
  }
}
