import type { Config } from "../config/schema.js";
import { LlamaEngine, type LlamaEngineOptions } from "../inference/llama/engine.js";
import type { CatalogModel } from "../models/catalog.js";
import type { Logger } from "../observability/logger.js";

/** The model hosts for `models`, as the `inference` settings say: one place for the gateway and the worker. */
export function engineFromConfig(config: Config, models: CatalogModel[], logger: Logger, onLifecycle?: LlamaEngineOptions["onLifecycle"], onSpans?: LlamaEngineOptions["onSpans"]): LlamaEngine {
  return new LlamaEngine({
    models,
    threads: config.inference.threads,
    gpu: config.inference.gpu,
    contextSize: config.inference.contextSize,
    maxQueue: config.inference.maxQueue,
    queueTimeoutMs: config.inference.queueTimeoutMs,
    maxAdapterContexts: config.inference.maxAdapterContexts,
    adapterContextIdleMs: config.inference.adapterContextIdleMs,
    drainTimeoutMs: config.models.drainTimeoutMs,
    mmap: config.models.mmap,
    logger,
    ...(onLifecycle === undefined ? {} : { onLifecycle }),
    ...(onSpans === undefined ? {} : { onSpans }),
  });
}
