import { ModelUnavailableError } from "../errors.js";
import type { CallOptions, EmbeddingResult, GenerationInput, GenerationParams, GenerationResult, InferenceEngine, ModelStatus } from "../interface.js";

/**
 * Answers at once with a fixed text, for measuring what the gateway itself costs per request (`npm run bench`).
 * Never used to serve clients.
 */
export class NoopEngine implements InferenceEngine {
  constructor(private readonly modelIds: string[], private readonly reply = "ok") {}

  private check(modelId: string): void {
    if (!this.modelIds.includes(modelId)) throw new ModelUnavailableError("model_not_found", `model ${modelId} does not exist`);
  }

  async generate(modelId: string, _input: GenerationInput, params: GenerationParams, options?: CallOptions): Promise<GenerationResult> {
    this.check(modelId);
    options?.onText?.(this.reply);
    // Its one token is certain: the engine can answer nothing else.
    const logprobs = params.logprobs === undefined ? {} : { logprobs: [{ token: this.reply, logprob: 0, top: params.logprobs > 0 ? [{ token: this.reply, logprob: 0 }] : [] }] };
    return { text: this.reply, finishReason: "stop", promptTokens: 1, completionTokens: 1, queueMs: 0, inferenceMs: 0, ...logprobs };
  }

  async embed(modelId: string, inputs: string[]): Promise<EmbeddingResult> {
    this.check(modelId);
    return { vectors: inputs.map(() => [0]), promptTokens: inputs.length, queueMs: 0, inferenceMs: 0 };
  }

  status(modelId: string): ModelStatus | undefined {
    return this.modelIds.includes(modelId) ? { id: modelId, state: "ready", inFlight: 0, queued: 0 } : undefined;
  }

  async whenSettled(): Promise<void> {}

  async close(): Promise<void> {}
}
