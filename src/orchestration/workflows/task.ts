import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  defineQuery,
  defineUpdate,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  TimeoutFailure,
  workflowInfo,
} from "@temporalio/workflow";
import { assembleResult, candidateModels, checkMicrotasks, outputText, validateOutputs } from "../microtask.js";
import { NOT_HERE } from "../names.js";
import type {
  ControlActivities,
  FailedAttempt,
  InferenceActivities,
  InferenceOutcome,
  InferenceRequest,
  Microtask,
  MicrotaskResult,
  TaskCancelAnswer,
  TaskInput,
  TaskPlacement,
  TaskPolicy,
  TaskResult,
} from "../types.js";
import { notify } from "./notifications.js";

export const DEFAULT_TASK_POLICY: TaskPolicy = {
  inference: {
    startToCloseMs: 5 * 60_000,
    scheduleToStartMs: 60_000,
    heartbeatMs: 30_000,
    maximumAttempts: 2,
    initialIntervalMs: 1_000,
  },
  hostsPerModel: 2,
  webhook: {
    maximumAttempts: 8,
    initialIntervalMs: 1_000,
    maximumIntervalMs: 60_000,
    startToCloseMs: 15_000,
  },
};

export type MicrotaskState = "pending" | "running" | "succeeded" | "failed" | "skipped";

export interface TaskProgress {
  taskId: string;
  /**
   * notifying: recorded, and telling the learner and/or the webhook; cancelling: a cancel was accepted (the `cancel`
   * update) and the task is stopping.
   */
  status: "running" | "validating" | "recording" | "notifying" | "cancelling" | "succeeded" | "failed";
  microtasks: Array<{ id: string; state: MicrotaskState; model?: string; fallbacks: number }>;
}

/** Where a running task stands. Kept for callers from before taskStateQuery, which answers it too. */
export const taskProgressQuery = defineQuery<TaskProgress>("progress");

export interface TaskState {
  progress: TaskProgress;
  /**
   * The task's result once it is recorded: final from then on, whatever the notifications after the record do;
   * those still under way show `{pending: true}` in its `learning` and `webhook`. Null before the record.
   */
  result: TaskResult | null;
}

/**
 * What GET /v1/tasks/:id and the task's event stream show of a task whose workflow still runs: its progress, or its
 * result once recorded, so that a webhook receiver that is slow or never answers does not hold the result back.
 */
export const taskStateQuery = defineQuery<TaskState>("state");

/**
 * A cancel asked of the workflow itself, so that the answer is decided in order with what the task does (see
 * TaskCancelAnswer): of any number of concurrent cancels exactly one is accepted, and none once the result is
 * final. Accepted, the task's inferences and validation stop at once, nothing is recorded, and the workflow waits for
 * the cancel request the caller sends next (askToCancel in client.ts) to end cancelled.
 */
export const cancelTaskUpdate = defineUpdate<TaskCancelAnswer>("cancel");

/**
 * How long a task whose cancel was accepted waits for the cancel request that follows it before it fails as
 * cancelled (TASK_CANCELLED) on its own: the request comes at once unless the gateway died in between.
 */
export const CANCEL_GRACE_MS = 60_000;

/** The failure type of a cancel update refused because the task's result is recorded (askToCancel: "recorded"). */
export const TASK_RECORDED = "task_recorded";

/** The failure type of a task cancelled through the update whose cancel request never came (see CANCEL_GRACE_MS). */
export const TASK_CANCELLED = "task_cancelled";

// Locate and validate are quick reads: a few tries, then the task fails visibly.
const QUICK = {
  startToCloseTimeout: "30 seconds",
  retry: { initialInterval: "500 milliseconds", backoffCoefficient: 2, maximumInterval: "10 seconds", maximumAttempts: 5 },
} as const;
type QuickActivities = Pick<ControlActivities, "locateModels" | "locateModelsHere" | "validateResults">;
const quickRemote = proxyActivities<QuickActivities>(QUICK);
// The same, run by the worker that runs the workflow (it serves the control activities too): no round trip through
// the server to schedule and complete each, which was two of the four that a one-microtask task paid.
const quickLocal = proxyLocalActivities<QuickActivities>(QUICK);
/** Histories recorded before the change keep their scheduled activities on replay. */
export const LOCAL_CONTROL_PATCH = "local-control-activities";
// The record must be written: retried until the database takes it, however long that is.
const RECORD = {
  startToCloseTimeout: "1 minute",
  retry: { initialInterval: "1 second", backoffCoefficient: 2, maximumInterval: "1 minute" },
} as const;
type Recorder = Pick<ControlActivities, "recordTask">;
const recorderRemote = proxyActivities<Recorder>(RECORD);
// One INSERT, run by the worker that runs the workflow, in the same workflow task as validation: no activity
// dispatch and no further workflow task before the task completes. A worker that dies after the INSERT and before
// its workflow task completes leaves the next worker to run it again, which finds the record and writes nothing.
const recorderLocal = proxyLocalActivities<Recorder>(RECORD);
/**
 * The workflow task that receives the last inference result finishes the task: outputs without a schema are checked
 * in the workflow itself (pure code, no activity), and the record is a local activity. Histories recorded before
 * keep their validation activity and their scheduled recordTask on replay. It implies LOCAL_CONTROL_PATCH, which
 * new histories then no longer mark: each patch marker comes with a search-attribute upsert, a visibility write on
 * the server per task.
 */
export const LOCAL_FINISH_PATCH = "local-finish";
/**
 * A short microtask whose model is served by the very process running its workflow is inferred there, as a local
 * activity, in the workflow task that located it: no activity dispatch through the server, and the task finishes in
 * that same workflow task. A worker that is not that host (its workflow task retried elsewhere) refuses with
 * NOT_HERE, and the microtask goes to the host's queue as before. Implies LOCAL_FINISH_PATCH.
 */
export const LOCAL_INFERENCE_PATCH = "local-inference";
/**
 * Up to this many tokens (max_tokens, stated) a microtask's inference may run as a local activity. While it runs its
 * workflow task stays open, and a progress query waits for it to close: a long generation would leave GET
 * /v1/tasks/:id without an answer for as long, and its host's failure to the workflow task's timeout.
 */
export const LOCAL_INFERENCE_MAX_TOKENS = 64;

/**
 * How far apart a placement read at submission (TaskInput.placement) and the task's first workflow task may be for
 * the placement to stand in for a locate activity: as old as the copy of the directory locate itself may read.
 */
export const PLACEMENT_MAX_AGE_MS = 2_000;

function inferenceHere(policy: TaskPolicy): Pick<ControlActivities, "runMicrotaskHere"> {
  const p = policy.inference;
  return proxyLocalActivities<Pick<ControlActivities, "runMicrotaskHere">>({
    startToCloseTimeout: p.startToCloseMs,
    retry: { initialInterval: p.initialIntervalMs, backoffCoefficient: 2, maximumAttempts: p.maximumAttempts, nonRetryableErrorTypes: [NOT_HERE] },
  });
}

/**
 * The placement the task was submitted with, for a microtask that starts with the task: when it was read at most
 * PLACEMENT_MAX_AGE_MS from the first workflow task and names a host for each of the microtask's models. Null: locate.
 */
function placedAtSubmission(submitted: TaskPlacement | undefined, models: readonly string[], firstTaskTime: number, inferHere: boolean): { placement: Record<string, string[]>; here: string | null } | null {
  if (submitted === undefined || Math.abs(firstTaskTime - submitted.at) > PLACEMENT_MAX_AGE_MS) return null;
  if (!models.every((model) => (submitted.hosts[model]?.length ?? 0) > 0)) return null;
  return { placement: submitted.hosts, here: inferHere ? submitted.here : null };
}

/** Whether a failure says the local try ran on a worker that is not the chosen host. */
function notHere(error: unknown): boolean {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return cause instanceof ApplicationFailure && cause.type === NOT_HERE;
}

function inferenceOn(taskQueue: string, policy: TaskPolicy): InferenceActivities {
  const p = policy.inference;
  return proxyActivities<InferenceActivities>({
    taskQueue,
    startToCloseTimeout: p.startToCloseMs,
    scheduleToStartTimeout: p.scheduleToStartMs,
    heartbeatTimeout: p.heartbeatMs,
    retry: { initialInterval: p.initialIntervalMs, backoffCoefficient: 2, maximumAttempts: p.maximumAttempts },
  });
}

/** Why an inference try failed, as the result records it. */
function describeFailure(error: unknown, model: string, taskQueue: string): FailedAttempt {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof TimeoutFailure) {
    return { model, taskQueue, outcome: "timed_out", code: `timeout_${(cause.timeoutType ?? "unknown").toLowerCase()}`, message: cause.message };
  }
  if (cause instanceof ApplicationFailure) {
    return { model, taskQueue, outcome: "failed", code: cause.type ?? "activity_failed", message: cause.message };
  }
  return { model, taskQueue, outcome: "failed", code: "activity_failed", message: error instanceof Error ? error.message : String(error) };
}

/**
 * A task: its microtasks' inferences (each on a host that serves its model; microtasks that do not depend on each
 * other in parallel; a model that fails or times out on every host gives way to the microtask's next model, and the
 * result says so), then validation, assembly, and the task's execution record. Durable: a worker or server that
 * dies mid-task loses nothing, the task continues where it was.
 */
export async function taskWorkflow(input: TaskInput): Promise<TaskResult> {
  const inferHere = patched(LOCAL_INFERENCE_PATCH);
  const finishHere = inferHere || patched(LOCAL_FINISH_PATCH);
  const quick = finishHere || patched(LOCAL_CONTROL_PATCH) ? quickLocal : quickRemote;
  const problems = checkMicrotasks(input.microtasks);
  if (problems.length > 0) throw ApplicationFailure.nonRetryable(problems.join("; "), "invalid_task", { problems });
  const policy: TaskPolicy = {
    inference: { ...DEFAULT_TASK_POLICY.inference, ...input.policy?.inference },
    hostsPerModel: input.policy?.hostsPerModel ?? DEFAULT_TASK_POLICY.hostsPerModel,
    webhook: { ...DEFAULT_TASK_POLICY.webhook, ...input.policy?.webhook },
  };
  // The first workflow task's time (the same on replay): whether the placement read at submission is fresh.
  const firstTaskTime = Date.now();
  const startTime = workflowInfo().startTime;
  const startedAt = startTime.toISOString();
  const byId = new Map(input.microtasks.map((m) => [m.id, m]));
  const states = new Map<string, { state: MicrotaskState; model?: string; fallbacks: number }>(
    input.microtasks.map((m) => [m.id, { state: "pending", fallbacks: 0 }]),
  );
  let status: TaskProgress["status"] = "running";
  // Set, each in one synchronous step of the workflow, when the update accepts a cancel and when the record starts:
  // whichever comes first decides what the other finds.
  let cancelAccepted = false;
  let committed = false;
  let recorded: TaskResult | null = null;
  const progress = (): TaskProgress => ({
    taskId: input.taskId,
    status: cancelAccepted ? "cancelling" : status,
    microtasks: input.microtasks.map((m) => ({ id: m.id, ...states.get(m.id)! })),
  });
  setHandler(taskProgressQuery, progress);
  setHandler(taskStateQuery, () => ({ progress: progress(), result: recorded }));
  // The inferences and validation: what an accepted cancel stops. The record and the notifications are outside it.
  // A cancel request (Temporal's own) cancels it too, as the workflow's root scope is its parent.
  const work = new CancellationScope();
  setHandler(cancelTaskUpdate, (): TaskCancelAnswer => {
    // Histories from before the validator hold cancels accepted after the record, answered so.
    if (committed) return "recorded";
    if (cancelAccepted) return "already_cancelling";
    cancelAccepted = true;
    work.cancel();
    return "cancelling";
  }, {
    // Refused before it is accepted, a cancel of a recorded task leaves nothing in the workflow's history: repeated
    // cancels of a task still telling its webhook do not grow it (nor count against Temporal's updates per workflow).
    validator: () => {
      if (committed) throw ApplicationFailure.nonRetryable("the task's result is recorded", TASK_RECORDED);
    },
  });

  const runs = new Map<string, Promise<MicrotaskResult>>();
  const run = (microtask: Microtask): Promise<MicrotaskResult> => {
    let running = runs.get(microtask.id);
    if (!running) {
      running = runMicrotask(microtask);
      runs.set(microtask.id, running);
    }
    return running;
  };

  async function runMicrotask(microtask: Microtask): Promise<MicrotaskResult> {
    const predecessors = await Promise.all(microtask.dependsOn.map((id) => run(byId.get(id)!)));
    const state = states.get(microtask.id)!;
    const blocked = predecessors.filter((p) => p.status !== "succeeded").map((p) => p.id);
    if (blocked.length > 0) {
      state.state = "skipped";
      return { id: microtask.id, status: "skipped", promptTokens: 0, completionTokens: 0, fallbacks: [], error: { code: "dependency_failed", message: `not run: ${blocked.join(", ")} did not succeed` } };
    }
    state.state = "running";
    const outputs = Object.fromEntries(predecessors.map((p) => [p.id, outputText(p)]));
    const models = candidateModels(microtask);
    const { placement, here } =
      (microtask.dependsOn.length === 0 ? placedAtSubmission(input.placement, models, firstTaskTime, inferHere) : null) ??
      (inferHere ? await quick.locateModelsHere(models) : { placement: await quick.locateModels(models), here: null });
    const short = (microtask.options?.maxTokens ?? Infinity) <= LOCAL_INFERENCE_MAX_TOKENS;
    const fallbacks: FailedAttempt[] = [];
    for (const model of models) {
      const queues = (placement[model] ?? []).slice(0, policy.hostsPerModel);
      if (queues.length === 0) {
        fallbacks.push({ model, taskQueue: null, outcome: "no_host", code: "no_host", message: `no live host advertises model ${model}` });
      }
      for (const taskQueue of queues) {
        state.model = model;
        const request: InferenceRequest = {
          taskId: input.taskId,
          requestId: input.requestId,
          actor: input.actor,
          microtask,
          model,
          predecessors: outputs,
          ...(input.learn ? { taskLearns: true } : {}),
          // An activity's arguments are not compared on replay: histories from before this field replay unchanged.
          ...(input.adaptation ? { adaptation: input.adaptation } : {}),
        };
        try {
          let outcome: InferenceOutcome | undefined;
          if (short && taskQueue === here) {
            try {
              outcome = await inferenceHere(policy).runMicrotaskHere({ ...request, taskQueue, idTimeMs: startTime.getTime() });
            } catch (error) {
              if (!notHere(error)) throw error;
            }
          }
          outcome ??= await inferenceOn(taskQueue, policy).runMicrotask(request);
          state.state = "succeeded";
          return {
            id: microtask.id,
            status: "succeeded",
            model: outcome.model,
            modelDigest: outcome.modelDigest,
            taskQueue,
            executionId: outcome.executionId,
            text: outcome.text,
            ...(outcome.value !== undefined ? { value: outcome.value } : {}),
            promptTokens: outcome.promptTokens,
            completionTokens: outcome.completionTokens,
            fallbacks,
          };
        } catch (error) {
          if (isCancellation(error)) throw error;
          fallbacks.push(describeFailure(error, model, taskQueue));
          state.fallbacks = fallbacks.length;
        }
      }
    }
    state.state = "failed";
    const last = fallbacks[fallbacks.length - 1];
    return {
      id: microtask.id,
      status: "failed",
      promptTokens: 0,
      completionTokens: 0,
      fallbacks,
      error: { code: "all_models_failed", message: `every model tried for ${microtask.id} failed${last ? `; last: ${last.code}: ${last.message}` : ""}` },
    };
  }

  let result: TaskResult;
  try {
    result = await work.run(() => finish(input.microtasks.map(run)));
  } catch (error) {
    if (cancelAccepted && isCancellation(error)) return endCancelled();
    throw error;
  }
  // Accepted after the work was done and before this step: still nothing recorded, so the cancel stands.
  if (cancelAccepted) return endCancelled();
  committed = true;
  status = "recording";
  const recorder = finishHere ? recorderLocal : recorderRemote;
  await recorder.recordTask({ input, result, startedAt });
  recorded = result;

  // Only inputs that ask for them schedule these, so histories of tasks that did not replay as they always did.
  if (input.learn || input.webhook) {
    status = "notifying";
    await notify(input, result, policy);
  }
  status = result.status;
  return result;

  /** Validation and assembly of the microtasks' results, into the result the task records. */
  async function finish(running: Array<Promise<MicrotaskResult>>): Promise<TaskResult> {
    const results = await Promise.all(running);
    const byResult = new Map(results.map((r) => [r.id, r]));

    let error: TaskResult["error"];
    const failed = results.filter((r) => r.status !== "succeeded");
    if (failed.length > 0) {
      error = { code: "microtask_failed", message: `microtask(s) ${failed.map((r) => r.id).join(", ")} did not succeed` };
    } else {
      status = "validating";
      // A schema needs the gateway's JSON Schema validator, which only an activity has.
      const violations = finishHere && input.microtasks.every((m) => m.schema === undefined)
        ? validateOutputs(input.microtasks, results)
        : await quick.validateResults({ microtasks: input.microtasks, results });
      for (const problem of violations) {
        const result = byResult.get(problem.microtask);
        if (result) {
          result.status = "failed";
          result.error = { code: problem.code, message: problem.message };
          states.get(problem.microtask)!.state = "failed";
        }
      }
      if (violations.length > 0) error = { code: "validation_failed", message: violations.map((v) => `${v.microtask}: ${v.message}`).join("; "), details: violations };
    }

    let assembled: unknown = null;
    if (!error) {
      const assembly = assembleResult(input.microtasks, byResult, input.assembly);
      if (assembly.ok) assembled = assembly.value;
      else error = { code: "validation_failed", message: assembly.problems.map((p) => `${p.microtask}: ${p.message}`).join("; "), details: assembly.problems };
    }

    return {
      taskId: input.taskId,
      status: error ? "failed" : "succeeded",
      result: assembled,
      microtasks: results,
      executionId: input.taskId,
      ...(error ? { error } : {}),
    };
  }
}

/**
 * Ends a task whose cancel the update accepted: waits for the cancel request that follows, which ends the workflow
 * cancelled, as Temporal's own cancel always did (the wait is cancelled with it). Should it not come within
 * CANCEL_GRACE_MS (the gateway that accepted it died before sending it), the task fails as cancelled: either way it
 * is cancelled and never recorded, as the caller was told.
 */
async function endCancelled(): Promise<never> {
  await condition(() => false, CANCEL_GRACE_MS);
  throw ApplicationFailure.nonRetryable("the task was cancelled (no cancel request followed the accepted cancel)", TASK_CANCELLED);
}
