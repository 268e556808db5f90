import { ApplicationFailure, WorkflowFailedError, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client, type WorkflowHandle } from "@temporalio/client";
import { z } from "zod";
import { AdaptationRequestSchema } from "../adaptation/strategies.js";
import { TaskLabel } from "../adaptation/task-class.js";
import { CLASSIFICATIONS } from "../policy/classification.js";
import { UUID_PATTERN } from "../util/uuidv7.js";
import { candidateModels, checkMicrotasks } from "./microtask.js";
import { CONTROL_TASK_QUEUE } from "./names.js";
import type { TaskCancelAnswer, TaskInput, TaskPlacement, TaskResult } from "./types.js";
import { cancelTaskUpdate, TASK_CANCELLED, TASK_RECORDED, taskProgressQuery, taskStateQuery, taskWorkflow, type TaskProgress } from "./workflows/task.js";

const Message = z.strictObject({ role: z.enum(["system", "user", "assistant"]), content: z.string().max(1_000_000) });

/** A microtask as a caller may submit it; mirrors the Microtask type. */
export const MicrotaskSchema = z.strictObject({
  id: z.string().min(1).max(128),
  model: z.string().min(1).max(128),
  fallbackModels: z.array(z.string().min(1).max(128)).max(16).optional(),
  input: z.discriminatedUnion("kind", [
    z.strictObject({ kind: z.literal("chat"), messages: z.array(Message).min(1).max(1_000) }),
    z.strictObject({ kind: z.literal("completion"), prompt: z.string().max(1_000_000) }),
  ]),
  dependsOn: z.array(z.string().min(1).max(128)).max(1_000),
  options: z.strictObject({
    maxTokens: z.number().int().min(1).optional(),
    temperature: z.number().min(0).max(2).optional(),
    topP: z.number().gt(0).max(1).optional(),
    seed: z.number().int().min(0).max(2 ** 31 - 1).optional(),
    stop: z.array(z.string().min(1)).max(16).optional(),
  }).optional(),
  schema: z.record(z.string(), z.unknown()).optional(),
});

const Positive = z.number().int().min(1);
export const TaskPolicySchema = z.strictObject({
  inference: z.strictObject({
    startToCloseMs: Positive.optional(),
    scheduleToStartMs: Positive.optional(),
    heartbeatMs: Positive.optional(),
    maximumAttempts: z.number().int().min(1).max(100).optional(),
    initialIntervalMs: Positive.optional(),
  }).optional(),
  hostsPerModel: z.number().int().min(1).max(100).optional(),
  webhook: z.strictObject({
    maximumAttempts: z.number().int().min(1).max(100).optional(),
    initialIntervalMs: Positive.optional(),
    maximumIntervalMs: Positive.optional(),
    startToCloseMs: Positive.max(10 * 60_000).optional(),
  }).optional(),
});

const QueueName = z.string().min(1).max(1_000);
/** Mirrors TaskPlacement. */
const PlacementSchema = z.strictObject({
  at: z.number().int().nonnegative(),
  hosts: z.record(z.string(), z.array(QueueName).max(100)),
  here: QueueName.nullable(),
});

export const TaskInputSchema = z.strictObject({
  taskId: z.string().regex(UUID_PATTERN, "a UUID"),
  requestId: z.string().min(1),
  actor: z.strictObject({ subject: z.string(), tenant: z.string(), tokenIdHash: z.string(), sourceAddress: z.string().optional() }),
  microtasks: z.array(MicrotaskSchema).min(1).max(1_000),
  policy: TaskPolicySchema.optional(),
  assembly: z.enum(["list", "merge"]).optional(),
  learn: z.boolean().optional(),
  webhook: z.strictObject({ url: z.url({ protocol: /^https?$/ }).max(2048) }).optional(),
  /** Mirrors TaskAdaptation: the decision that cleared the task at submission, its label and adaptation choice. */
  adaptation: z.strictObject({
    policy: z.strictObject({
      hash: z.string(),
      decision: z.literal("allow"),
      classification: z.enum(CLASSIFICATIONS),
      piiKinds: z.array(z.string()),
      purpose: z.string(),
      redacted: z.boolean(),
    }),
    task: TaskLabel.optional(),
    request: AdaptationRequestSchema.optional(),
  }).optional(),
  placement: PlacementSchema.optional(),
});

export class InvalidTaskError extends Error {
  override readonly name = "InvalidTaskError";
  constructor(readonly problems: string[]) {
    super(`invalid task: ${problems.join("; ")}`);
  }
}

export interface SubmitOptions {
  /**
   * Ask the server to hand the task's first workflow task straight back to a control worker of this process (eager
   * workflow start), skipping a trip through matching. Needs a client on a worker's NativeConnection; where no
   * control worker of this process polls the control queue, the SDK sends a plain start.
   */
  eager?: boolean;
  /**
   * Where this process finds models now, and its own inference queue (see TaskPlacement): passed along with an eager
   * start, whose first workflow task runs here, so that it need not locate them again.
   */
  locate?: (models: string[]) => Promise<Omit<TaskPlacement, "at">>;
  /**
   * How long a worker may hold one of the task's workflow tasks before the server hands it to another; Temporal's
   * default (10 s) when absent. A worker that dies inside a workflow task delays the task by this much.
   */
  workflowTaskTimeoutMs?: number;
}

/**
 * Starts a task workflow (workflow id = task id) on the control queue and returns at once: the caller answers
 * 202 with the id, and the task runs durably whatever happens to this process. Refuses a malformed task, and a task
 * id that was already used.
 */
export async function submitTask(client: Client, input: TaskInput, options: SubmitOptions = {}): Promise<WorkflowHandle<typeof taskWorkflow>> {
  const parsed = TaskInputSchema.safeParse(input);
  if (!parsed.success) throw new InvalidTaskError(parsed.error.issues.map((i) => `${i.path.join(".") || "(task)"}: ${i.message}`));
  const problems = checkMicrotasks(input.microtasks);
  if (problems.length > 0) throw new InvalidTaskError(problems);
  // A directory that cannot be read now costs only the shortcut: the workflow locates the models itself.
  const placement = options.eager && options.locate ? await placementOf(input, options.locate).catch(() => undefined) : undefined;
  const placed = placement === undefined ? input : { ...input, placement };
  return client.workflow.start(taskWorkflow, {
    workflowId: input.taskId,
    taskQueue: CONTROL_TASK_QUEUE,
    args: [placed],
    workflowIdReusePolicy: "REJECT_DUPLICATE",
    // Read back by getTaskStatus and cancel to answer only the tenant that submitted it.
    memo: { tenant: input.actor.tenant },
    ...(options.eager ? { requestEagerStart: true } : {}),
    ...(options.workflowTaskTimeoutMs === undefined ? {} : { workflowTaskTimeout: options.workflowTaskTimeoutMs }),
  });
}

async function placementOf(input: TaskInput, locate: NonNullable<SubmitOptions["locate"]>): Promise<TaskPlacement> {
  const at = Date.now();
  const models = [...new Set(input.microtasks.flatMap(candidateModels))];
  return { at, ...(await locate(models)) };
}

/** The tenant a task was submitted for (its workflow's memo); undefined for a workflow started otherwise. */
export function taskTenant(memo: Record<string, unknown> | undefined): string | undefined {
  const tenant = memo?.["tenant"];
  return typeof tenant === "string" ? tenant : undefined;
}

/**
 * running: not recorded yet. completed: the result is recorded, and final — its workflow may still be telling the
 * learner or the webhook, whose `learning` / `webhook` then say `{pending: true}`. The others: it ended without one.
 */
export type TaskStatus =
  | { taskId: string; state: "running"; progress: TaskProgress | null }
  | { taskId: string; state: "completed"; result: TaskResult }
  | { taskId: string; state: "failed" | "cancelled" | "terminated" | "timed_out"; error: string };

/**
 * Where a task stands: its progress while it runs, its result once recorded; null for an unknown id, and — when
 * `tenant` is given — for another tenant's task.
 */
export async function getTaskStatus(client: Client, taskId: string, tenant?: string): Promise<TaskStatus | null> {
  const handle = client.workflow.getHandle<typeof taskWorkflow>(taskId);
  let status: string;
  try {
    const description = await handle.describe();
    if (tenant !== undefined && taskTenant(description.memo) !== tenant) return null;
    status = description.status.name;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return null;
    throw error;
  }
  if (status === "RUNNING") {
    // A worker running workflow code from before the state query answers only the progress query.
    const state = await handle.query(taskStateQuery).catch(() => null);
    if (state?.result) return { taskId, state: "completed", result: state.result };
    const progress = state?.progress ?? (await handle.query(taskProgressQuery).catch(() => null));
    return { taskId, state: "running", progress };
  }
  if (status === "COMPLETED") return { taskId, state: "completed", result: await handle.result() };
  let message = status.toLowerCase();
  let cancelledByUpdate = false;
  try {
    await handle.result();
  } catch (error) {
    const cause = error instanceof WorkflowFailedError ? error.cause : undefined;
    message = cause ? cause.message : (error as Error).message;
    cancelledByUpdate = cause instanceof ApplicationFailure && cause.type === TASK_CANCELLED;
  }
  const state = status === "CANCELLED" || cancelledByUpdate ? "cancelled" : status === "TERMINATED" ? "terminated" : status === "TIMED_OUT" ? "timed_out" : "failed";
  return { taskId, state, error: message };
}

/**
 * Temporal's own cancel, sent straight to the server: a running task's in-flight inferences are cancelled and it
 * ends as cancelled; once recorded, its pending notifications stop and its result stands. The gateway asks through
 * askToCancel instead, which refuses once the result is recorded and tells one cancel from the next.
 */
export async function cancelTask(client: Client, taskId: string): Promise<void> {
  await client.workflow.getHandle(taskId).cancel();
}

/** What a cancel came to: the workflow's answer (TaskCancelAnswer), or not_running when it had already ended. */
export type CancelOutcome = TaskCancelAnswer | "not_running";

/**
 * Asks a running task to stop, through the workflow itself (cancelTaskUpdate), which answers in order with what the
 * task does: exactly one of any number of cancels is "cancelling", the others "already_cancelling", and none once
 * the result is recorded ("recorded": nothing is stopped). An accepted cancel is followed by Temporal's own, which
 * the workflow waits for, so that the task ends cancelled as before. A worker running workflow code from before the
 * update rejects it: that task is cancelled the old way, and every such ask says "cancelling".
 */
export async function askToCancel(handle: WorkflowHandle): Promise<CancelOutcome> {
  let answer: TaskCancelAnswer;
  try {
    answer = await handle.executeUpdate(cancelTaskUpdate);
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return "not_running";
    if (!(error instanceof WorkflowUpdateFailedError)) throw error;
    if (error.cause instanceof ApplicationFailure && error.cause.type === TASK_RECORDED) return "recorded";
    await handle.cancel();
    return "cancelling";
  }
  if (answer === "recorded") return answer;
  // The task is cancelled already (the update stopped its work); this only lets it end as Temporal's own cancel ends
  // it. Lost (Temporal gone this instant), the workflow fails as cancelled after CANCEL_GRACE_MS all the same, so the
  // caller is told what is true: the cancel was accepted.
  await handle.cancel().catch(() => undefined);
  return answer;
}
