import type { CatalogModel } from "../../models/catalog.js";
import type { Logger } from "../../observability/logger.js";
import type { AdmissionOptions } from "../admission.js";
import { ModelUnavailableError } from "../errors.js";
import type { CallOptions, EmbeddingResult, GenerationInput, GenerationParams, GenerationResult, InferenceEngine, ModelStatus } from "../interface.js";
import { ModelHost, type ModelHostOptions, type ModelLifecycleEvent } from "./model-host.js";
import type { LoadSpec } from "./protocol.js";

export interface LlamaEngineOptions {
  models: CatalogModel[];
  threads: number;
  gpu: LoadSpec["gpu"];
  /** Context window per sequence; capped by each model's own context length. */
  contextSize: number;
  maxQueue: number;
  queueTimeoutMs: number;
  /** Contexts with a LoRA adapter each model host keeps besides its base context. */
  maxAdapterContexts?: number;
  adapterContextIdleMs?: number;
  logger: Logger;
  restartDelayMs?: number;
  onLifecycle?: (event: ModelLifecycleEvent) => void;
  /** Spans the model hosts made for traced requests, to export with this process's. */
  onSpans?: ModelHostOptions["onSpans"];
  /** How long a host taken out of service may finish its requests before the rest are cut off; default 60 s. */
  drainTimeoutMs?: number;
  /**
   * Let llama.cpp map the model files (models.mmap) instead of reading the weights into each host's memory; default
   * false, so that a write into a file after its load cannot change what is served (docs/architecture.md, Inference).
   */
  mmap?: boolean;
  /** How often each host looks at its loaded file for changes besides inotify's notices; default 1 s. */
  fileCheckMs?: number;
}

/** How a host taken out of service ended: its file's digest, and how many requests the drain timeout cut off. */
export interface DrainOutcome {
  sha256: string;
  aborted: number;
}

/** How a replacement ended: switched (the previous host now drains), refused (the previous one serves on), or given up. */
export type ReplaceOutcome =
  | { kind: "replaced"; previous: string; drained: Promise<DrainOutcome> }
  | { kind: "refused"; code: string; reason: string }
  | { kind: "abandoned" };

const DEFAULT_DRAIN_TIMEOUT_MS = 60_000;
/** Bounds how long a write through another process's mapping of a model file goes unnoticed. */
const DEFAULT_FILE_CHECK_MS = 1_000;

/**
 * Local inference through node-llama-cpp, one supervised host process per model. While the gateway runs, a model
 * can be added, replaced by another file (the new host loads beside the old one, which serves until the switch),
 * and taken out of service: its host then drains, finishing what it admitted, and stops.
 */
export class LlamaEngine implements InferenceEngine {
  /** The host serving each id. */
  private readonly hosts = new Map<string, ModelHost>();
  /** Hosts out of service, finishing their requests. */
  private readonly draining = new Set<ModelHost>();
  /** Replacements loading beside the host they are to replace. */
  private readonly staged = new Set<ModelHost>();
  /** Ids an operator unloaded: refused as such (not as unknown) until hosted again. */
  private readonly unloaded = new Set<string>();
  private closed = false;

  constructor(private readonly options: LlamaEngineOptions) {
    for (const model of options.models) this.hosts.set(model.id, this.hostFor(model));
  }

  private hostFor(model: CatalogModel): ModelHost {
    const options = this.options;
    const admission: AdmissionOptions = { concurrency: model.parallel, maxQueue: options.maxQueue, queueTimeoutMs: options.queueTimeoutMs };
    const spec: LoadSpec = {
      modelId: model.id,
      path: model.path,
      sha256: model.sha256,
      contextSize: Math.min(options.contextSize, model.contextLength),
      sequences: model.parallel,
      threads: options.threads,
      gpu: options.gpu,
      embedding: model.capabilities.includes("embedding"),
      generation: model.capabilities.includes("chat") || model.capabilities.includes("completion"),
      maxAdapterContexts: options.maxAdapterContexts ?? 2,
      adapterIdleMs: options.adapterContextIdleMs ?? 300_000,
      mmap: options.mmap ?? false,
      fileCheckMs: options.fileCheckMs ?? DEFAULT_FILE_CHECK_MS,
    };
    return new ModelHost({ spec, admission, logger: options.logger, restartDelayMs: options.restartDelayMs, onLifecycle: options.onLifecycle, onSpans: options.onSpans });
  }

  /** Starts every model host; resolves when each is ready or has failed (a failed model never fails the rest). */
  async start(): Promise<void> {
    await Promise.all([...this.hosts.values()].map((host) => host.start()));
  }

  /**
   * Hosts a model pinned while the engine runs. The host is there (loading) as soon as this returns; the promise
   * resolves once it is ready or has failed, as start() does. An id already hosted, or an engine closing, refuses.
   */
  add(model: CatalogModel): Promise<void> {
    this.refuseIfClosed(model.id);
    if (this.hosts.has(model.id)) throw new RangeError(`model ${model.id} is already hosted`);
    const host = this.hostFor(model);
    this.hosts.set(model.id, host);
    this.unloaded.delete(model.id);
    return host.start();
  }

  /**
   * Replaces the host of `model.id` with one for `model` (another file, digest or settings), verified and loaded
   * as any model is, while the current host goes on serving. Once the new host is ready, `commit` is asked,
   * synchronously, whether the switch is still wanted (and switches whatever must switch with it); if so, new
   * calls go to the new host from that moment and the previous one drains. A refused or unwanted new host is
   * stopped, and the previous one serves on.
   */
  async replace(model: CatalogModel, commit: () => boolean): Promise<ReplaceOutcome> {
    this.refuseIfClosed(model.id);
    if (!this.hosts.has(model.id)) throw new RangeError(`model ${model.id} is not hosted: add it instead`);
    const next = this.hostFor(model);
    this.staged.add(next);
    try {
      await next.start();
    } finally {
      this.staged.delete(next);
    }
    const status = next.status();
    if (status.state !== "ready") {
      await next.close();
      return status.state === "failed"
        ? { kind: "refused", code: status.reasonCode ?? "model_load_failed", reason: status.reason ?? "the model could not be loaded" }
        : { kind: "abandoned" };
    }
    const previous = this.hosts.get(model.id);
    if (this.closed || previous === undefined || !commit()) {
      await next.close();
      return { kind: "abandoned" };
    }
    this.hosts.set(model.id, next);
    return { kind: "replaced", previous: previous.digest, drained: this.retire(previous) };
  }

  /**
   * Takes `modelId` out of service until add() hosts it again: new calls are refused at once (as unloaded), what
   * its host admitted finishes within the drain timeout, then the host stops. Undefined when it was not hosted.
   */
  unload(modelId: string, drainTimeoutMs?: number): Promise<DrainOutcome> | undefined {
    const host = this.hosts.get(modelId);
    this.unloaded.add(modelId);
    if (host === undefined) return undefined;
    this.hosts.delete(modelId);
    return this.retire(host, drainTimeoutMs);
  }

  /** As unload(), for a model no longer pinned: the id is then unknown. */
  remove(modelId: string): Promise<DrainOutcome> | undefined {
    const drained = this.unload(modelId);
    this.unloaded.delete(modelId);
    return drained;
  }

  private async retire(host: ModelHost, drainTimeoutMs = this.options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS): Promise<DrainOutcome> {
    this.draining.add(host);
    try {
      const { aborted } = await host.drain(drainTimeoutMs);
      return { sha256: host.digest, aborted };
    } finally {
      this.draining.delete(host);
    }
  }

  private refuseIfClosed(modelId: string): void {
    if (this.closed) throw new ModelUnavailableError("model_stopped", `the engine is shutting down; ${modelId} is not started`);
  }

  ids(): string[] {
    return [...this.hosts.keys()];
  }

  /** Whether a host serves `modelId` (loading, ready or failed), rather than none (unloaded, or unknown). */
  isHosted(modelId: string): boolean {
    return this.hosts.has(modelId);
  }

  host(modelId: string): ModelHost {
    const host = this.hosts.get(modelId);
    if (host) return host;
    if (this.unloaded.has(modelId)) throw new ModelUnavailableError("model_unloaded", `model ${modelId} is unloaded: an operator took it out of service`);
    throw new ModelUnavailableError("model_not_found", `model ${modelId} does not exist`);
  }

  generate(modelId: string, input: GenerationInput, params: GenerationParams, options?: CallOptions): Promise<GenerationResult> {
    return this.host(modelId).generate(input, params, options);
  }

  embed(modelId: string, inputs: string[], options?: CallOptions): Promise<EmbeddingResult> {
    return this.host(modelId).embed(inputs, options);
  }

  /** The serving host's status; else a draining one's, or `unloaded`; undefined for an id never hosted. */
  status(modelId: string): ModelStatus | undefined {
    const host = this.hosts.get(modelId) ?? [...this.draining].find((h) => h.id === modelId);
    if (host !== undefined) return host.status();
    return this.unloaded.has(modelId) ? { id: modelId, state: "unloaded", inFlight: 0, queued: 0 } : undefined;
  }

  async whenSettled(): Promise<void> {
    await Promise.all([...this.hosts.values()].map((host) => host.whenSettled()));
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.hosts.values(), ...this.draining, ...this.staged].map((host) => host.close()));
  }
}
