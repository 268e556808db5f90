import { performance } from "node:perf_hooks";
import type { ContentHasher } from "../audit/content-hasher.js";
import { ApiError, fromInferenceError } from "../gateway/errors.js";
import { InferenceError } from "../inference/errors.js";
import type { FinishReason, GenerationInput, GenerationParams, InferenceEngine } from "../inference/interface.js";
import type { CatalogModel } from "../models/catalog.js";
import type { Actor, ExecutionEndpoint, ExecutionRecord, ExecutionStore, SchemaRef } from "../store/interface.js";
import type { Violation } from "../structured/index.js";
import type { ModelDirectory } from "./model-directory.js";
import { recordExecution } from "./record.js";
import { prepareStructured, type StructuredSpec } from "./structured.js";

export interface PipelineDeps {
  engine: InferenceEngine;
  models: ModelDirectory;
  executions: ExecutionStore;
  /** Keyed hashes of inputs and outputs for the audit log. */
  contentHasher: ContentHasher;
  limits: { maxTokensLimit: number; structuredAttempts: number };
}

export interface GenerationRequest {
  executionId: string;
  requestId: string;
  actor: Actor;
  endpoint: Exclude<ExecutionEndpoint, "embeddings">;
  model?: string;
  input: GenerationInput;
  /** What the caller asked for, before defaults; recorded as is. */
  options: { maxTokens?: number; temperature?: number; topP?: number; seed?: number; stop?: string[] };
  structured?: StructuredSpec;
  /** Stored as the execution's input; defaults to `input`. */
  recordedInput?: unknown;
  signal?: AbortSignal;
  onText?: (chunk: string) => void;
  /** Called once the model is chosen, before inference (e.g. to send headers that name it). */
  onModel?: (model: CatalogModel) => void;
}

export interface GenerationOutcome {
  executionId: string;
  model: CatalogModel;
  text: string;
  /** The validated JSON value for structured requests. */
  value?: unknown;
  finishReason: FinishReason;
  promptTokens: number;
  completionTokens: number;
  attempts: number;
}

const DEFAULT_MAX_TOKENS = 256;

/** The structured output failed validation on every attempt: nothing invalid is ever returned. */
export function structuredOutputError(violations: Violation[], attempts: number): ApiError {
  return new ApiError(422, "invalid_request_error", "structured_output_invalid",
    `the model's output did not satisfy the schema after ${attempts} attempt(s)`, null, {}, { violations });
}

/**
 * One generation from request to stored execution: resolve the model, constrain and validate structured output
 * (retrying with a fresh seed up to the configured attempts), then write the execution before answering.
 * Failures after the model is chosen are recorded too, as failed executions.
 */
export async function runGeneration(deps: PipelineDeps, request: GenerationRequest): Promise<GenerationOutcome> {
  const started = performance.now();
  const createdAt = new Date();
  const model = deps.models.resolve(request.model, request.input.kind === "chat" ? "chat" : "completion");
  const structured = request.structured ? prepareStructured(request.structured) : undefined;
  const requested = request.options.maxTokens;
  if (requested !== undefined && requested > deps.limits.maxTokensLimit) {
    throw new ApiError(400, "invalid_request_error", "max_tokens_too_large", `max_tokens may be at most ${deps.limits.maxTokensLimit}`, "max_tokens");
  }
  // Structured output is bounded by its grammar; leaving room for the whole of it means generation cannot stop
  // inside a string. The vocabulary's shortest token is one character, so characters bound tokens.
  const structuredBound = structured?.maxOutputChars != null ? structured.maxOutputChars + 8 : undefined;
  const maxTokens = Math.min(requested ?? structuredBound ?? DEFAULT_MAX_TOKENS, deps.limits.maxTokensLimit);
  const baseSeed = request.options.seed;
  const params: GenerationParams = {
    maxTokens,
    temperature: request.options.temperature ?? 0.7,
    ...(request.options.topP !== undefined ? { topP: request.options.topP } : {}),
    ...(request.options.stop?.length ? { stop: request.options.stop } : {}),
    ...(structured ? { grammar: structured.grammar } : {}),
  };
  request.onModel?.(model);

  // A streamed answer cannot be taken back, so streaming gets a single attempt.
  const attemptsAllowed = structured && !request.onText ? deps.limits.structuredAttempts : 1;
  const schema: SchemaRef | null = request.structured?.kind === "json_schema" ? request.structured.ref : null;
  let queueMs = 0;
  let inferenceMs = 0;
  let promptTokens = 0;
  let completionTokens = 0;
  let attempts = 0;

  const record = (status: ExecutionRecord["status"], errorCode: string | null, output: unknown) =>
    recordExecution(deps, {
      id: request.executionId,
      requestId: request.requestId,
      actor: request.actor,
      endpoint: request.endpoint,
      modelId: model.id,
      modelDigest: model.sha256,
      status,
      errorCode,
      parameters: {
        ...params,
        grammar: request.structured?.kind ?? null,
        seed: baseSeed ?? null,
        attempts,
      },
      input: request.recordedInput ?? request.input,
      output,
      schema,
      promptTokens,
      completionTokens,
      timings: { queueMs, inferenceMs, totalMs: performance.now() - started },
      createdAt,
      completedAt: new Date(),
    });

  let lastViolations: Violation[] = [];
  try {
    while (attempts < attemptsAllowed) {
      attempts++;
      const seed = baseSeed === undefined ? undefined : baseSeed + attempts - 1;
      const result = await deps.engine.generate(model.id, request.input, { ...params, ...(seed !== undefined ? { seed } : {}) }, {
        signal: request.signal,
        onText: request.onText,
      });
      queueMs += result.queueMs;
      inferenceMs += result.inferenceMs;
      promptTokens += result.promptTokens;
      completionTokens += result.completionTokens;
      if (!structured) {
        await record("succeeded", null, result.text);
        return { executionId: request.executionId, model, text: result.text, finishReason: result.finishReason, promptTokens, completionTokens, attempts };
      }
      const check = structured.check(result.text);
      if (check.ok) {
        await record("succeeded", null, check.value);
        return { executionId: request.executionId, model, text: result.text, value: check.value, finishReason: result.finishReason, promptTokens, completionTokens, attempts };
      }
      lastViolations = result.finishReason === "length"
        ? [{ path: "", keyword: "max_tokens", message: `generation stopped at max_tokens (${maxTokens}) before the output was complete` }, ...check.violations]
        : check.violations;
    }
  } catch (error) {
    if (error instanceof InferenceError) {
      await record("failed", error.code, null);
      throw fromInferenceError(error);
    }
    throw error;
  }
  await record("failed", "structured_output_invalid", null);
  throw structuredOutputError(lastViolations, attempts);
}
