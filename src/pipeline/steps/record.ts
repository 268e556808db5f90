import { performance } from "node:perf_hooks";
import type { AdaptationRecord } from "../../adaptation/record.js";
import { automaticReward } from "../../adaptation/rewards.js";
import type { FinishReason } from "../../inference/interface.js";
import type { ExecutionRecord, SchemaRef } from "../../store/interface.js";
import { isPlainObject } from "../../structured/json-values.js";
import type { GenerationRequest, PipelineDeps } from "../generate.js";
import type { PolicyCheck } from "../policy-gate.js";
import { countExecution } from "../execution-metrics.js";
import { recordExecution } from "../record.js";
import { routingSummary } from "../routing.js";
import type { Adapted } from "./adapt.js";
import type { Usage } from "./infer.js";
import type { Selected } from "./select.js";

/** How a generation ended, as the record and the learners see it. */
export interface Ending {
  status: ExecutionRecord["status"];
  errorCode: string | null;
  output: unknown;
  /** Whether structured output satisfied its schema; null for free text and for failures before any output. */
  schemaValid: boolean | null;
  finishReason: FinishReason | null;
}

export interface GenerationTrace {
  started: number;
  createdAt: Date;
  check: PolicyCheck | null;
  selected: Selected;
  adapted: Adapted;
  usage: Usage;
}

/**
 * Record: the execution and its audit event, written before the caller is answered (see ../record.ts for what is
 * stored and how PII is kept out of it). Its parameters are those the model ran with, its adaptation record (with
 * the automatic reward, so feedback can revise it later), and the policy decision.
 */
export async function recordGeneration(deps: PipelineDeps, request: GenerationRequest, trace: GenerationTrace, ending: Ending): Promise<AdaptationRecord | null> {
  const { selected, adapted, usage, check } = trace;
  const { model, decision, redactor } = selected;
  // The adapter is named in the adaptation record, by id and digest; where the host reads it from is not a parameter.
  const { adapter: _adapter, ...params } = adapted.params;
  const adaptation: AdaptationRecord | null = adapted.record === null ? null : {
    ...adapted.record,
    reward: rewardOf(ending, usage, decision?.assignments[0]?.expectedLatencyMs ?? null),
  };
  const schema: SchemaRef | null = request.structured?.kind === "json_schema" ? request.structured.ref : null;
  const record: ExecutionRecord = {
    id: request.executionId,
    requestId: request.requestId,
    actor: request.actor,
    endpoint: request.endpoint,
    modelId: model.id,
    modelDigest: model.sha256,
    status: ending.status,
    errorCode: ending.errorCode,
    parameters: {
      ...params,
      // Stop sequences are the caller's text too, and so is the end user it names.
      ...(params.stop ? { stop: params.stop.map((stop) => redactor.redactText(stop).text) } : {}),
      ...(request.endUser === undefined ? {} : { user: redactor.redactText(request.endUser).text }),
      grammar: request.structured?.kind ?? null,
      seed: request.options.seed ?? null,
      attempts: usage.attempts,
      // Why the answer ended ("stop", "length"): a stored response says whether it was cut at its token limit.
      finishReason: ending.finishReason,
      ...(adaptation === null ? {} : { adaptation }),
    },
    input: storedInput(request, selected),
    output: ending.output,
    schema,
    promptTokens: usage.promptTokens,
    completionTokens: usage.completionTokens,
    timings: { queueMs: usage.queueMs, inferenceMs: usage.inferenceMs, totalMs: performance.now() - trace.started },
    createdAt: trace.createdAt,
    completedAt: new Date(),
  };
  const context = { redactor, ...(check === null ? {} : { policy: { ...check.record, redacted: selected.redacted } }) };
  // A microtask of an asynchronous task keeps the decision its task was cleared with at submission (its
  // classification, for feedback and exemplars); counted there, not again here.
  const policy = context.policy ?? request.cleared;
  await recordExecution(deps, record, {
    redactor,
    ...(policy === undefined ? {} : { policy }),
    ...(decision === null ? {} : { routing: routingSummary(decision) }),
    ...(request.continues === undefined ? {} : { continues: request.continues }),
  });
  countExecution(deps.metrics, record, context);
  if (adaptation !== null) deps.metrics?.adaptation(adaptation.mode, adaptation.strategies);
  return adaptation;
}

/**
 * The execution's input as stored. Where the prompt showed the schema (tasks: `showSchema`), the stored input keeps
 * it as the model was shown it (`schema`: with the placeholders the model read), so that the prompt can be rebuilt
 * from the record (adapter fits: src/pipeline/task-prompt.ts storedTaskMessages) — except a registered schema shown
 * unchanged: the record's schema reference names it, and the registry keeps each version as it was.
 */
function storedInput(request: GenerationRequest, selected: Selected): unknown {
  const input = request.recordedInput ?? request.input;
  const shown = selected.given.structured;
  if (request.showSchema !== true || shown?.kind !== "json_schema" || !isPlainObject(input)) return input;
  const registered = request.structured?.kind === "json_schema" && request.structured.ref !== null ? request.structured.schema : null;
  if (registered !== null && JSON.stringify(registered) === JSON.stringify(shown.schema)) return input;
  return { ...input, schema: shown.schema };
}

function rewardOf(ending: Ending, usage: Usage, expectedLatencyMs: number | null): AdaptationRecord["reward"] {
  const { reward, informative } = automaticReward({
    errorCode: ending.errorCode,
    schemaValid: ending.schemaValid,
    attempts: Math.max(1, usage.attempts),
    finishReason: ending.finishReason,
    latencyMs: usage.queueMs + usage.inferenceMs,
    expectedLatencyMs,
  });
  return { automatic: reward, learned: informative && reward !== null };
}
