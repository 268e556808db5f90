import { performance } from "node:perf_hooks";
import { fromInferenceError } from "../gateway/errors.js";
import { InferenceError } from "../inference/errors.js";
import type { CatalogModel } from "../models/catalog.js";
import type { Actor, ExecutionRecord } from "../store/interface.js";
import { Redactor } from "../redaction/index.js";
import { allowedHandling, policyCheck, type PolicyCheck, type PolicySubject } from "./policy-gate.js";
import type { PipelineDeps } from "./generate.js";
import { countExecution } from "./execution-metrics.js";
import { recordExecution } from "./record.js";

export interface EmbeddingRequest {
  executionId: string;
  requestId: string;
  actor: Actor;
  /** The caller and the data's classification, for the policy (required when deps.policy is set). */
  policy?: PolicySubject;
  model?: string;
  inputs: string[];
  /** The end user the caller names (OpenAI's `user`): kept in the execution's parameters, redacted like its input. */
  endUser?: string;
  signal?: AbortSignal;
}

export interface EmbeddingOutcome {
  model: CatalogModel;
  vectors: number[][];
  promptTokens: number;
}

/**
 * Embeds the inputs (with PII replaced by placeholders where the policy says so) and records the execution; the
 * vectors themselves are not stored, only their shape.
 */
export async function runEmbedding(deps: PipelineDeps, request: EmbeddingRequest): Promise<EmbeddingOutcome> {
  const started = performance.now();
  const createdAt = new Date();
  const model = deps.models.resolve(request.model, "embedding");
  let check: PolicyCheck | undefined;
  if (deps.policy !== undefined) {
    if (request.policy === undefined) throw new Error("an embedding under a policy needs the caller and classification (request.policy)");
    check = policyCheck(deps.policy, request.policy, request.inputs);
  }
  const redactor = new Redactor(check === undefined ? {} : { detector: check.scan });
  let inputs = request.inputs;
  let redacted = false;
  if (deps.policy !== undefined && request.policy !== undefined && check !== undefined) {
    // As for generation: PII this model may not see is embedded as typed placeholders, so a vector still says
    // "an e-mail address was here" without carrying which one.
    if (allowedHandling(deps.policy, request.policy, check, "embed", model) === "redact") {
      inputs = request.inputs.map((text) => redactor.redactText(text).text);
      redacted = true;
    }
  }
  const record = async (status: "succeeded" | "failed", errorCode: string | null, output: unknown, promptTokens: number, queueMs: number, inferenceMs: number) => {
    const execution: ExecutionRecord = {
      id: request.executionId,
      requestId: request.requestId,
      actor: request.actor,
      endpoint: "embeddings",
      modelId: model.id,
      modelDigest: model.sha256,
      status,
      errorCode,
      parameters: { inputs: request.inputs.length, ...(request.endUser === undefined ? {} : { user: redactor.redactText(request.endUser).text }) },
      input: request.inputs,
      output,
      schema: null,
      promptTokens,
      completionTokens: 0,
      timings: { queueMs, inferenceMs, totalMs: performance.now() - started },
      createdAt,
      completedAt: new Date(),
    };
    const context = { redactor, ...(check === undefined ? {} : { policy: { ...check.record, redacted } }) };
    await recordExecution(deps, execution, context);
    countExecution(deps.metrics, execution, context);
  };
  try {
    const result = await deps.engine.embed(model.id, inputs, { signal: request.signal });
    await record("succeeded", null, { vectors: result.vectors.length, dimensions: result.vectors[0]?.length ?? 0 }, result.promptTokens, result.queueMs, result.inferenceMs);
    return { model, vectors: result.vectors, promptTokens: result.promptTokens };
  } catch (error) {
    if (error instanceof InferenceError) {
      await record("failed", error.code, null, 0, 0, 0);
      throw fromInferenceError(error);
    }
    throw error;
  }
}
