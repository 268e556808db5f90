/**
 * The inference contract between the gateway and whatever runs models. The llama.cpp engine (./llama) runs each
 * model in a supervised child process; the no-op engine (./noop) answers instantly and exists to measure the
 * gateway's own overhead.
 */

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface GenerationParams {
  maxTokens: number;
  temperature: number;
  topP?: number;
  topK?: number;
  seed?: number;
  stop?: string[];
  /** GBNF grammar that constrains the output (structured output); absent for free text. */
  grammar?: string;
  /** Keeps only tokens at least this probable relative to the most probable one (0 disables). */
  minP?: number;
  /**
   * Penalties on tokens already generated: `penalty` divides their probability (1 disables), `frequencyPenalty`
   * lowers it per occurrence, `presencePenalty` once; over the last `lastTokens` tokens.
   * Absent: none (node-llama-cpp 3.21.1 then leaves llama.cpp's repeat-penalty sampler off).
   */
  repeatPenalty?: { penalty: number; frequencyPenalty?: number; presencePenalty?: number; lastTokens?: number };
  /**
   * A LoRA adapter the model host applies for this request only (src/adaptation/adapters/interface.ts), verified
   * against its SHA-256 before load.
   */
  adapter?: { id: string; path: string; sha256: string; scale: number };
  /**
   * Asks for each generated token's log-probability and this many most probable alternatives at its position
   * (0 to MAX_TOP_LOGPROBS); absent: none are computed.
   */
  logprobs?: number;
}

export type GenerationInput =
  | { kind: "chat"; messages: ChatMessage[] }
  | { kind: "completion"; prompt: string };

export type FinishReason = "stop" | "length";

/** OpenAI's bound on alternatives per token (`top_logprobs`). */
export const MAX_TOP_LOGPROBS = 20;

/** A generated token as the model scored it: natural logarithms of the model's own probabilities. */
export interface TokenLogprob {
  token: string;
  logprob: number;
  /** The most probable tokens at this position, most probable first (as many as asked for). */
  top: Array<{ token: string; logprob: number }>;
}

export interface GenerationResult {
  text: string;
  finishReason: FinishReason;
  promptTokens: number;
  completionTokens: number;
  /** Time spent waiting for a free sequence before inference began. */
  queueMs: number;
  /** Time from inference start to last token. */
  inferenceMs: number;
  /** Per generated token, where GenerationParams.logprobs asked for them. */
  logprobs?: TokenLogprob[];
}

export interface EmbeddingResult {
  vectors: number[][];
  promptTokens: number;
  queueMs: number;
  inferenceMs: number;
}

export interface CallOptions {
  /** Aborts queued or running work when the client goes away. */
  signal?: AbortSignal;
  /** Streams text as it is generated; the final result still carries the whole text. */
  onText?: (chunk: string) => void;
}

/**
 * A model host's state. `draining`: no longer taking requests (unpinned, replaced or unloaded by an operator),
 * finishing those it had; `unloaded`: pinned but not hosted, by an operator's choice, until it is loaded again.
 */
export const MODEL_STATES = ["loading", "ready", "failed", "stopped", "draining", "unloaded"] as const;
export type ModelState = (typeof MODEL_STATES)[number];

export interface ModelStatus {
  id: string;
  state: ModelState;
  /** Why the model is not ready (digest mismatch, malformed file, crashed), in words for operators. */
  reason?: string;
  /** Stable code for the reason, e.g. model_digest_mismatch. */
  reasonCode?: string;
  inFlight: number;
  queued: number;
}

export interface InferenceEngine {
  generate(modelId: string, input: GenerationInput, params: GenerationParams, options?: CallOptions): Promise<GenerationResult>;
  embed(modelId: string, inputs: string[], options?: CallOptions): Promise<EmbeddingResult>;
  status(modelId: string): ModelStatus | undefined;
  /** Resolves once every model has either become ready or failed. */
  whenSettled(): Promise<void>;
  close(): Promise<void>;
}
