import { performance } from "node:perf_hooks";
import type { ContentHasher } from "../audit/content-hasher.js";
import { ApiError, fromInferenceError } from "../gateway/errors.js";
import { InferenceError } from "../inference/errors.js";
import type { FinishReason, GenerationInput, GenerationParams, InferenceEngine } from "../inference/interface.js";
import type { CatalogModel } from "../models/catalog.js";
import type { Actor, ExecutionEndpoint, ExecutionRecord, ExecutionStore, SchemaRef } from "../store/interface.js";
import type { Violation } from "../structured/index.js";
import type { ModelDirectory } from "./model-directory.js";
import type { CriteriaInput, RouteDecision } from "../bidding/index.js";
import type { PolicyDecider } from "../policy/index.js";
import { mayRestore, policyCheck, type PolicyCheck, type PolicySubject } from "./policy-gate.js";
import { Redactor } from "../redaction/index.js";
import { recordExecution } from "./record.js";
import { biddingRequestOf, chooseModel, routingSummary, type Routing } from "./routing.js";
import { prepareStructured, type StructuredSpec } from "./structured.js";
import { redactedView, viewTexts, type ModelView } from "./model-view.js";
import { withSchemaShown } from "./task-prompt.js";

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
  /**
   * Shows the model the schema of `structured` in the system message (tasks), as the model is given it: with
   * placeholders where the request's PII is redacted.
   */
  showSchema?: boolean;
  /** The caller and the data's classification, for the policy; required wherever deps.policy is set. */
  policy?: PolicySubject;
  /** Bidding criteria the caller gave (tasks), over the tenant's and the global ones. */
  criteria?: CriteriaInput;
  /** Stored as the execution's input (with its PII replaced by placeholders); defaults to `input`. */
  recordedInput?: unknown;
  signal?: AbortSignal;
  onText?: (chunk: string) => void;
  /** Called once the model is chosen, before inference (e.g. to send headers that name it and the decision). */
  onModel?: (model: CatalogModel, decision: RouteDecision | null) => void;
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
  const structured = request.structured ? prepareStructured(request.structured) : undefined;
  const requested = request.options.maxTokens;
  if (requested !== undefined && requested > deps.limits.maxTokensLimit) {
    throw new ApiError(400, "invalid_request_error", "max_tokens_too_large", `max_tokens may be at most ${deps.limits.maxTokensLimit}`, "max_tokens");
  }
  const asSent: ModelView = {
    input: request.input,
    ...(request.options.stop?.length ? { stop: request.options.stop } : {}),
    ...(request.structured ? { structured: request.structured } : {}),
  };
  const bidding = biddingRequestOf(modelInput(asSent, request.showSchema), {
    ...(request.endpoint === "tasks" ? { kind: "task" as const } : {}),
    ...(request.structured?.kind === "json_schema" ? { schema: request.structured.schema } : {}),
    jsonObject: request.structured?.kind === "json_object",
    ...(requested === undefined ? {} : { maxTokens: requested }),
  });
  const check = policyFor(deps.policy, request.policy, asSent);
  const { model, decision, redact } = await chooseModel(deps.models, deps.routing, {
    executionId: request.executionId,
    ...(check === null ? {} : { policy: { decider: deps.policy!, subject: request.policy!, check } }),
    tenant: request.actor.tenant,
    model: request.model,
    capability: request.input.kind === "chat" ? "chat" : "completion",
    bidding,
    ...(request.criteria === undefined ? {} : { criteria: request.criteria }),
  });
  // PII the chosen model may not see is replaced by placeholders in all it reads or is steered by (the grammar is
  // compiled from the redacted schema, and checks the output against it); the caller gets the originals back in a
  // text answer where the policy allows (structured values keep the placeholders: restoring could break the schema
  // they were validated against). What is stored gets placeholders from the same redactor either way.
  const redaction = redact && check !== null ? redactedRequest(asSent, check, deps.policy!, request.policy!, model) : null;
  const redactor = redaction?.redactor ?? new Redactor(check === null ? {} : { detector: check.scan });
  const given = redaction?.view ?? asSent;
  const steering = given.structured && given.structured !== request.structured ? prepareStructured(given.structured) : structured;
  const input = modelInput(given, request.showSchema);
  // Structured output is bounded by its grammar; leaving room for the whole of it means generation cannot stop
  // inside a string. The vocabulary's shortest token is one character, so characters bound tokens.
  const structuredBound = steering?.maxOutputChars != null ? steering.maxOutputChars + 8 : undefined;
  const maxTokens = Math.min(requested ?? structuredBound ?? DEFAULT_MAX_TOKENS, deps.limits.maxTokensLimit);
  const baseSeed = request.options.seed;
  const params: GenerationParams = {
    maxTokens,
    temperature: request.options.temperature ?? 0.7,
    ...(request.options.topP !== undefined ? { topP: request.options.topP } : {}),
    ...(given.stop ? { stop: given.stop } : {}),
    ...(steering ? { grammar: steering.grammar } : {}),
  };
  const recordedInput = request.recordedInput ?? request.input;
  const restoring = steering ? null : (redaction?.restore ?? null);
  const restoredStream = restoring !== null && request.onText ? restoring.restoreStream() : null;
  const onText = request.onText && restoredStream ? (chunk: string) => request.onText!(restoredStream.push(chunk)) : request.onText;
  const answer = (text: string) => (restoring === null ? text : restoring.restore(text));
  request.onModel?.(model, decision);

  // A streamed answer cannot be taken back, so streaming gets a single attempt.
  const attemptsAllowed = steering && !request.onText ? deps.limits.structuredAttempts : 1;
  const schema: SchemaRef | null = request.structured?.kind === "json_schema" ? request.structured.ref : null;
  let queueMs = 0;
  let inferenceMs = 0;
  let promptTokens = 0;
  let completionTokens = 0;
  let attempts = 0;

  const record = async (status: ExecutionRecord["status"], errorCode: string | null, output: unknown, schemaValid: boolean | null) => {
    await recordExecution(deps, {
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
        // Stop sequences are the caller's text too.
        ...(params.stop ? { stop: params.stop.map((stop) => redactor.redactText(stop).text) } : {}),
        grammar: request.structured?.kind ?? null,
        seed: baseSeed ?? null,
        attempts,
      },
      input: recordedInput,
      output,
      schema,
      promptTokens,
      completionTokens,
      timings: { queueMs, inferenceMs, totalMs: performance.now() - started },
      createdAt,
      completedAt: new Date(),
    }, {
      redactor,
      ...(decision === null ? {} : { routing: routingSummary(decision) }),
      ...(check === null ? {} : { policy: { ...check.record, redacted: redaction !== null } }),
    });
    // Every execution teaches the learner, chosen by bidding or named by the caller. The answer does not wait
    // for it (a store round trip per request); readers of what was learned wait via routing.pending.
    const routing = deps.routing;
    if (routing !== undefined) {
      const outcome = { executionId: request.executionId, modelId: model.id, promptTokens, completionTokens, queueMs, inferenceMs, errorCode, schemaValid, attempts };
      routing.pending.add(request.executionId, routing.router
        .recordOutcome(outcome, decision === null ? bidding : undefined)
        .then(() => undefined, (error: unknown) => routing.onTrackingError(error, request.executionId)));
    }
  };

  let lastViolations: Violation[] = [];
  try {
    while (attempts < attemptsAllowed) {
      attempts++;
      const seed = baseSeed === undefined ? undefined : baseSeed + attempts - 1;
      const result = await deps.engine.generate(model.id, input, { ...params, ...(seed !== undefined ? { seed } : {}) }, {
        signal: request.signal,
        onText,
      });
      if (restoredStream !== null) {
        const rest = restoredStream.end();
        if (rest) request.onText!(rest);
      }
      queueMs += result.queueMs;
      inferenceMs += result.inferenceMs;
      promptTokens += result.promptTokens;
      completionTokens += result.completionTokens;
      if (!steering) {
        await record("succeeded", null, result.text, null);
        return { executionId: request.executionId, model, text: answer(result.text), finishReason: result.finishReason, promptTokens, completionTokens, attempts };
      }
      const check = steering.check(result.text);
      if (check.ok) {
        await record("succeeded", null, check.value, true);
        return { executionId: request.executionId, model, text: result.text, value: check.value, finishReason: result.finishReason, promptTokens, completionTokens, attempts };
      }
      lastViolations = result.finishReason === "length"
        ? [{ path: "", keyword: "max_tokens", message: `generation stopped at max_tokens (${maxTokens}) before the output was complete` }, ...check.violations]
        : check.violations;
    }
  } catch (error) {
    if (error instanceof InferenceError) {
      await record("failed", error.code, null, null);
      throw fromInferenceError(error);
    }
    throw error;
  }
  await record("failed", "structured_output_invalid", null, false);
  throw structuredOutputError(lastViolations, attempts);
}

/**
 * The policy context of a generation, or null where no policy applies. Every text the model would read or be
 * steered by is scanned.
 */
function policyFor(decider: PolicyDecider | undefined, subject: PolicySubject | undefined, view: ModelView): PolicyCheck | null {
  if (decider === undefined) return null;
  if (subject === undefined) throw new Error("a generation under a policy needs the caller and classification (request.policy)");
  return policyCheck(decider, subject, viewTexts(view));
}

/** What the model reads: the view's input, with its schema shown where the request asks for it (tasks). */
function modelInput(view: ModelView, showSchema: boolean | undefined): GenerationInput {
  if (!showSchema || view.input.kind !== "chat" || view.structured?.kind !== "json_schema") return view.input;
  return { kind: "chat", messages: withSchemaShown(view.input.messages, view.structured.schema) };
}

/** The request as the model may be given it; its Redactor also redacts the record, so both share placeholders. */
function redactedRequest(view: ModelView, check: PolicyCheck, decider: PolicyDecider, subject: PolicySubject, model: CatalogModel) {
  const redactor = new Redactor({ detector: check.scan });
  return { view: redactedView(view, redactor), redactor, restore: mayRestore(decider, subject, check, model) ? redactor : null };
}
