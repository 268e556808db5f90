import { ApplicationFailure, Context } from "@temporalio/activity";
import { createHash } from "node:crypto";
import { ApiError } from "../../gateway/errors.js";
import type { Logger } from "../../observability/logger.js";
import { runGeneration, type PipelineDeps } from "../../pipeline/generate.js";
import type { ExecutionRecord } from "../../store/interface.js";
import { resolveMicrotaskInput } from "../microtask.js";
import type { InferenceActivities, InferenceOutcome, InferenceRequest } from "../types.js";

export interface InferenceActivityDeps {
  /** The same pipeline the gateway runs: engine, model directory, execution store, content hasher, limits. */
  pipeline: PipelineDeps;
  hostId: string;
  logger: Logger;
  /**
   * How often a running inference heartbeats, and so how soon it hears that its task was cancelled: Temporal
   * delivers a cancellation only in the answer to a heartbeat. The worker must not throttle heartbeats to longer
   * (AtomicWorkerOptions.cancelCheckMs sets both). Default DEFAULT_CANCEL_CHECK_MS.
   */
  cancelCheckMs?: number;
}

/**
 * Heartbeats are writes on the Temporal server, one per second per running inference at this default; an
 * inference shorter than a second sends none, and a cancelled one stops within about a second instead of running
 * on to its end (2,000 tokens of a model nobody waits for any more).
 */
export const DEFAULT_CANCEL_CHECK_MS = 1_000;

/**
 * Failures worth another try on the same host: the model is loading, restarting or busy, or its host died under
 * the request. Anything else (a refused model file, an unknown model, a request the model cannot serve, output
 * that never met the schema) fails the activity for good, and the workflow moves on to the next host or model.
 */
const TRANSIENT_CODES = new Set(["model_loading", "model_restarting", "model_crashed", "model_stopped", "model_overloaded", "inference_failed", "request_aborted"]);

function toFailure(error: unknown): unknown {
  if (error instanceof ApiError) {
    return ApplicationFailure.create({
      type: error.code,
      message: error.message,
      nonRetryable: !TRANSIENT_CODES.has(error.code),
      ...(error.details === undefined ? {} : { details: [error.details] }),
    });
  }
  return error;
}

/**
 * The execution id of one try, the same each time it is computed: a UUIDv7 whose time is when the activity was
 * first scheduled and whose other bits hash the workflow run, the activity and the attempt. A retry can then look
 * up what its predecessors recorded.
 */
export function attemptExecutionId(parts: { workflowId: string; runId: string; activityId: string; attempt: number; scheduledMs: number }): string {
  const bytes = createHash("sha256").update(`${parts.workflowId}\n${parts.runId}\n${parts.activityId}\n${parts.attempt}`).digest().subarray(0, 16);
  bytes.writeUIntBE(Math.max(0, Math.floor(parts.scheduledMs)) % 2 ** 48, 0, 6);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function recovered(record: ExecutionRecord, hostId: string, structured: boolean): InferenceOutcome {
  return {
    executionId: record.id,
    model: record.modelId,
    modelDigest: record.modelDigest,
    hostId,
    text: structured ? JSON.stringify(record.output) : String(record.output ?? ""),
    ...(structured ? { value: record.output } : {}),
    promptTokens: record.promptTokens,
    completionTokens: record.completionTokens,
    recovered: true,
  };
}

/**
 * The pipeline without outcome tracking, for a task that teaches the learner itself under its decision: a lesson
 * from here too would count the same inference twice. The microtask names its model, so routing has no other use.
 */
function untracked(pipeline: PipelineDeps): PipelineDeps {
  const { routing: _routing, ...rest } = pipeline;
  return rest;
}

/** Activities that run on a model host's queue; the deps are injected, never global. */
export function createInferenceActivities(deps: InferenceActivityDeps): InferenceActivities {
  return {
    async runMicrotask(request: InferenceRequest): Promise<InferenceOutcome> {
      const context = Context.current();
      const { info } = context;
      // Always set for activities a workflow scheduled, which are the only ones Atomic runs.
      const execution = info.workflowExecution ?? { workflowId: request.taskId, runId: "" };
      const idOf = (attempt: number) => attemptExecutionId({
        workflowId: execution.workflowId,
        runId: execution.runId,
        activityId: info.activityId,
        attempt,
        scheduledMs: request.idTimeMs ?? info.scheduledTimestampMs,
      });
      const structured = request.microtask.schema !== undefined;
      // An earlier try may have recorded its answer and died before reporting it: use that, never record twice. A
      // local activity whose workflow task was retried elsewhere starts again at attempt 1: its own id too.
      const lastEarlier = info.isLocal ? info.attempt : info.attempt - 1;
      for (let attempt = 1; attempt <= lastEarlier; attempt++) {
        const earlier = await deps.pipeline.executions.get(request.actor.tenant, idOf(attempt));
        if (earlier?.status === "succeeded") {
          deps.logger.info({ task: request.taskId, microtask: request.microtask.id, executionId: earlier.id }, "microtask already recorded by an earlier try");
          return recovered(earlier, deps.hostId, structured);
        }
      }
      const executionId = idOf(info.attempt);
      const input = resolveMicrotaskInput(request.microtask, request.predecessors);
      const options = request.microtask.options ?? {};
      // Heartbeats tell Temporal this worker is alive (a killed worker stops them and the try is repeated
      // elsewhere), and their answers carry the task's cancellation. The first is due one interval in, not at once:
      // a short inference sends none (each is a write on the server).
      const every = info.heartbeatTimeoutMs
        ? Math.max(100, Math.min(deps.cancelCheckMs ?? DEFAULT_CANCEL_CHECK_MS, Math.floor(info.heartbeatTimeoutMs / 3)))
        : undefined;
      const timer = every === undefined ? undefined : setInterval(() => context.heartbeat(), every);
      try {
        const outcome = await runGeneration(request.taskLearns ? untracked(deps.pipeline) : deps.pipeline, {
          executionId,
          requestId: request.requestId,
          actor: request.actor,
          endpoint: "tasks",
          model: request.model,
          input,
          // Adaptation as the synchronous path has it: the tenant is the actor's, the classification the one the task
          // was cleared at on submission (the policy is not run again here), the class its label. Without it (a task
          // from before it), classification is unknown and the microtask runs unadapted, as it always did.
          ...(request.adaptation ? { cleared: request.adaptation.policy } : {}),
          options: {
            ...(request.adaptation?.task !== undefined ? { task: request.adaptation.task } : {}),
            ...(request.adaptation?.request !== undefined ? { adaptation: request.adaptation.request } : {}),
            ...(options.maxTokens !== undefined ? { maxTokens: options.maxTokens } : {}),
            ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
            ...(options.topP !== undefined ? { topP: options.topP } : {}),
            ...(options.seed !== undefined ? { seed: options.seed } : {}),
            ...(options.stop !== undefined ? { stop: options.stop } : {}),
          },
          ...(request.microtask.schema
            ? { structured: { kind: "json_schema" as const, schema: request.microtask.schema, ref: null, param: `microtasks.${request.microtask.id}.schema` } }
            : {}),
          recordedInput: { task: request.taskId, microtask: request.microtask.id, attempt: info.attempt, input },
          signal: context.cancellationSignal,
        });
        return {
          executionId,
          model: outcome.model.id,
          modelDigest: outcome.model.sha256,
          hostId: deps.hostId,
          text: outcome.text,
          ...(outcome.value !== undefined ? { value: outcome.value } : {}),
          promptTokens: outcome.promptTokens,
          completionTokens: outcome.completionTokens,
          recovered: false,
        };
      } catch (error) {
        // Cancelled by the workflow (or the worker shutting down): report the cancellation itself, not the abort.
        if (context.cancellationSignal.aborted) throw context.cancellationSignal.reason;
        throw toFailure(error);
      } finally {
        if (timer) clearInterval(timer);
      }
    },
  };
}
