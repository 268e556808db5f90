import type { GenerationInput, GenerationParams, GenerationResult } from "../../inference/interface.js";
import type { PipelineDeps } from "../generate.js";

/** Tokens and time spent on a generation across its attempts: what the record and the learners are told. */
export interface Usage {
  attempts: number;
  queueMs: number;
  inferenceMs: number;
  promptTokens: number;
  completionTokens: number;
}

export function emptyUsage(): Usage {
  return { attempts: 0, queueMs: 0, inferenceMs: 0, promptTokens: 0, completionTokens: 0 };
}

/**
 * Infer: one attempt on the chosen model. Each attempt of a structured request gets a fresh seed (the caller's seed,
 * then the next ones), so a retry is not the same draw again.
 */
export async function infer(
  deps: Pick<PipelineDeps, "engine">,
  modelId: string,
  input: GenerationInput,
  params: GenerationParams,
  usage: Usage,
  options: { baseSeed: number | undefined; signal: AbortSignal | undefined; onText: ((chunk: string) => void) | undefined },
): Promise<GenerationResult> {
  usage.attempts++;
  const seed = options.baseSeed === undefined ? undefined : options.baseSeed + usage.attempts - 1;
  const result = await deps.engine.generate(modelId, input, { ...params, ...(seed !== undefined ? { seed } : {}) }, {
    signal: options.signal,
    onText: options.onText,
  });
  usage.queueMs += result.queueMs;
  usage.inferenceMs += result.inferenceMs;
  usage.promptTokens += result.promptTokens;
  usage.completionTokens += result.completionTokens;
  return result;
}
