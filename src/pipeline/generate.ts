import { performance } from "node:perf_hooks";
import type { Adaptation } from "../adaptation/index.js";
import type { Sampling } from "../adaptation/parameters.js";
import type { AdaptationRequest } from "../adaptation/strategies.js";
import type { ContentHasher } from "../audit/content-hasher.js";
import type { CriteriaInput, RouteDecision } from "../bidding/index.js";
import { ApiError, fromInferenceError } from "../gateway/errors.js";
import { InferenceError } from "../inference/errors.js";
import type { FinishReason, InferenceEngine, TokenLogprob } from "../inference/interface.js";
import type { CatalogModel } from "../models/catalog.js";
import type { Metrics } from "../observability/metrics/interface.js";
import { inSpan } from "../observability/tracing/spans.js";
import type { PolicyDecider } from "../policy/index.js";
import type { Actor, ExecutionEndpoint, ExecutionStore } from "../store/interface.js";
import type { Violation } from "../structured/index.js";
import type { ModelDirectory } from "./model-directory.js";
import type { PolicyRecord, PolicySubject } from "./policy-gate.js";
import type { RequestInput, ToolCallTurn } from "./request-input.js";
import type { Routing } from "./routing.js";
import { adaptedAttributes, inferredAttributes, policedAttributes, selectedAttributes, validatedAttributes } from "./step-spans.js";
import type { StructuredSpec } from "./structured.js";
import { adapt } from "./steps/adapt.js";
import { answerText } from "./steps/assemble.js";
import { emptyUsage, infer } from "./steps/infer.js";
import { ingest } from "./steps/ingest.js";
import { learn } from "./steps/learn.js";
import { shadow, type ServedAnswer } from "./steps/shadow.js";
import { classifyAndPolice } from "./steps/police.js";
import { recordGeneration, type Ending, type GenerationTrace } from "./steps/record.js";
import { bidAndSelect } from "./steps/select.js";
import { validate } from "./steps/validate.js";
import { answeredCalls, recordedCalls } from "./tools/calls.js";

export interface PipelineDeps {
  engine: InferenceEngine;
  models: ModelDirectory;
  executions: ExecutionStore;
  /** Keyed hashes of inputs and outputs for the audit log. */
  contentHasher: ContentHasher;
  limits: { maxTokensLimit: number; structuredAttempts: number };
  /**
   * Bidding and outcome tracking. Absent (an inference worker executing a model already chosen), "auto" is
   * refused and nothing is tracked here.
   */
  routing?: Routing;
  /** The data-isolation policy; absent where a model was already cleared (an inference worker). */
  policy?: PolicyDecider;
  /** Inference-time adaptation (src/adaptation); absent: requests run as sent, with the gateway's defaults. */
  adaptation?: Adaptation;
  /** Counts executions, policy decisions, redactions and adaptation; absent: nothing is counted. */
  metrics?: Metrics;
}

/** What the caller set; sampling values it leaves out come from adaptation or the operator (src/adaptation). */
export interface GenerationOptions extends Sampling {
  maxTokens?: number;
  seed?: number;
  stop?: string[];
  /** The caller's task label (`atomic_task`): names the task class adaptation learns under. */
  task?: string;
  /** `atomic_adaptation`: "auto" (default), "off", or the strategies to apply. */
  adaptation?: AdaptationRequest;
  /** Each answer token's log-probability with this many alternatives (0–20); absent: none. */
  logprobs?: number;
}

export interface GenerationRequest {
  executionId: string;
  requestId: string;
  actor: Actor;
  endpoint: Exclude<ExecutionEndpoint, "embeddings">;
  model?: string;
  input: RequestInput;
  /** What the caller asked for, before defaults; recorded as is. */
  options: GenerationOptions;
  structured?: StructuredSpec;
  /**
   * Shows the model the schema of `structured` in the system message (tasks), as the model is given it: with
   * placeholders where the request's PII is redacted. The stored input (an object) then keeps the schema as shown,
   * unless it is a registered schema shown unchanged (steps/record.ts), so the prompt can be rebuilt from the record.
   */
  showSchema?: boolean;
  /** The caller and the data's classification, for the policy; required wherever deps.policy is set. */
  policy?: PolicySubject;
  /**
   * The policy decision made before this generation, where a pipeline without a policy runs it (an asynchronous
   * task's microtask on an inference worker: the gateway classified, policed and redacted the task at submission).
   * Not decided again: adaptation runs at its classification, and the execution record keeps it as its policy.
   */
  cleared?: PolicyRecord;
  /** Bidding criteria the caller gave (tasks), over the tenant's and the global ones. */
  criteria?: CriteriaInput;
  /** Stored as the execution's input (with its PII replaced by placeholders); defaults to `input`. */
  recordedInput?: unknown;
  signal?: AbortSignal;
  onText?: (chunk: string) => void;
  /** Called once the model is chosen, before inference (e.g. to send headers that name it and the decision). */
  onModel?: (model: CatalogModel, decision: RouteDecision | null) => void;
  /** The end user the caller names (OpenAI's `user`): kept in the execution's parameters, redacted like its content. */
  endUser?: string;
  /**
   * The execution this one continues (a response's `previous_response_id`), named in its audit event: an auditor
   * follows a conversation through the log without its content.
   */
  continues?: string;
}

export interface GenerationOutcome {
  executionId: string;
  model: CatalogModel;
  text: string;
  /** The validated JSON value for structured requests. */
  value?: unknown;
  /** The calls the model made where tools were offered, each checked against its tool's schema; text is then "". */
  toolCalls?: ToolCallTurn[];
  finishReason: FinishReason;
  promptTokens: number;
  completionTokens: number;
  attempts: number;
  /**
   * The answer's tokens as the model generated and scored them, where the request asked. They are the model's
   * output: where the policy redacted PII, its placeholders, never the originals put back into `text`.
   */
  logprobs?: TokenLogprob[];
}

/** The structured output failed validation on every attempt: nothing invalid is ever returned. */
export function structuredOutputError(violations: Violation[], attempts: number): ApiError {
  return new ApiError(422, "invalid_request_error", "structured_output_invalid",
    `the model's output did not satisfy the schema after ${attempts} attempt(s)`, null, {}, { violations });
}

/**
 * One generation from request to stored execution, in the order data flows through the gateway (each step in
 * ./steps, named as here):
 *
 *   ingest → classify and police → [decompose] → bid and select → adapt → infer → validate → assemble → record → learn
 *   [→ shadow: a cheaper model answers too, after the answer has gone, where bidding asked for it]
 *
 * Decomposition into microtasks is for asynchronous tasks (task-plan.ts, on the orchestration layer); here a
 * request is one microtask. Structured output is retried with a fresh seed up to the configured attempts; failures
 * after the model is chosen are recorded too, as failed executions. Each step runs in a span of its own, a child of
 * the request's (src/observability/tracing): no-op spans when tracing is off.
 */
export async function runGeneration(deps: PipelineDeps, request: GenerationRequest): Promise<GenerationOutcome> {
  const started = performance.now();
  const createdAt = new Date();
  const ingested = inSpan("ingest", () => ingest(request, deps.limits));
  const check = inSpan("police", () => classifyAndPolice(deps.policy, request.policy, ingested.asSent), policedAttributes);
  const selected = await inSpan("select", () => bidAndSelect(deps, request, ingested, check), selectedAttributes);
  const adapted = await inSpan("adapt", () => adapt(deps, request, ingested, selected), adaptedAttributes(selected));
  request.onModel?.(selected.model, selected.decision);

  const usage = emptyUsage();
  const trace: GenerationTrace = { started, createdAt, check, selected, adapted, usage };
  const finish = async (ending: Ending, served: ServedAnswer | null = null) => {
    const adaptation = await inSpan("record", () => recordGeneration(deps, request, trace, ending));
    learn(deps, request, { selected, bidding: ingested.bidding, usage, ending, adaptation });
    shadow(deps, request, selected, adapted, usage, served);
  };
  const answer = answerText(request, selected);
  // A streamed answer cannot be taken back, so streaming gets a single attempt.
  const attemptsAllowed = selected.steering && !request.onText ? deps.limits.structuredAttempts : 1;
  let lastViolations: Violation[] = [];
  try {
    while (usage.attempts < attemptsAllowed) {
      const result = await inSpan("infer", () => infer(deps, selected.model.id, adapted.input, adapted.params, usage, {
        baseSeed: request.options.seed, signal: request.signal, onText: answer.onText,
      }), inferredAttributes(selected.model.id, usage.attempts + 1));
      answer.flush();
      const validation = inSpan("validate", () => validate(selected.steering, result, adapted.params.maxTokens), validatedAttributes);
      if (validation.ok) {
        const structured = "value" in validation;
        const calls = validation.toolCalls && request.structured?.kind === "tools" ? answeredCalls(request.structured, validation.toolCalls) : undefined;
        const output = calls ? recordedCalls(calls) : structured ? validation.value : result.text;
        const served = calls ? null : structured ? { value: validation.value } : { text: result.text };
        await finish({ status: "succeeded", errorCode: null, output, schemaValid: structured || calls ? true : null, finishReason: result.finishReason }, served);
        return {
          executionId: request.executionId,
          model: selected.model,
          text: calls ? "" : structured ? result.text : answer.text(result.text),
          ...(structured ? { value: validation.value } : {}),
          ...(calls ? { toolCalls: calls } : {}),
          finishReason: result.finishReason,
          promptTokens: usage.promptTokens,
          completionTokens: usage.completionTokens,
          attempts: usage.attempts,
          ...(result.logprobs === undefined ? {} : { logprobs: result.logprobs }),
        };
      }
      lastViolations = validation.violations;
    }
  } catch (error) {
    if (error instanceof InferenceError) {
      await finish({ status: "failed", errorCode: error.code, output: null, schemaValid: null, finishReason: null });
      throw fromInferenceError(error);
    }
    throw error;
  }
  await finish({ status: "failed", errorCode: "structured_output_invalid", output: null, schemaValid: false, finishReason: null });
  throw structuredOutputError(lastViolations, usage.attempts);
}
