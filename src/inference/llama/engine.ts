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
}

/** Local inference through node-llama-cpp, one supervised host process per model. */
export class LlamaEngine implements InferenceEngine {
  private readonly hosts = new Map<string, ModelHost>();
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
    if (this.closed) throw new ModelUnavailableError("model_stopped", `the engine is shutting down; ${model.id} is not started`);
    if (this.hosts.has(model.id)) throw new RangeError(`model ${model.id} is already hosted`);
    const host = this.hostFor(model);
    this.hosts.set(model.id, host);
    return host.start();
  }

  ids(): string[] {
    return [...this.hosts.keys()];
  }

  host(modelId: string): ModelHost {
    const host = this.hosts.get(modelId);
    if (!host) throw new ModelUnavailableError("model_not_found", `model ${modelId} does not exist`);
    return host;
  }

  generate(modelId: string, input: GenerationInput, params: GenerationParams, options?: CallOptions): Promise<GenerationResult> {
    return this.host(modelId).generate(input, params, options);
  }

  embed(modelId: string, inputs: string[], options?: CallOptions): Promise<EmbeddingResult> {
    return this.host(modelId).embed(inputs, options);
  }

  status(modelId: string): ModelStatus | undefined {
    return this.hosts.get(modelId)?.status();
  }

  async whenSettled(): Promise<void> {
    await Promise.all([...this.hosts.values()].map((host) => host.whenSettled()));
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.hosts.values()].map((host) => host.close()));
  }
}
