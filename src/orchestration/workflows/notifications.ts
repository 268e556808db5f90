/**
 * What a task workflow does after its record: tell the learner and the webhook. Workflow code (deterministic).
 */
import { ActivityFailure, isCancellation, patched, proxyActivities, TimeoutFailure } from "@temporalio/workflow";
import { GATEWAY_TASK_QUEUE, WEBHOOK_TASK_QUEUE } from "../names.js";
import type { GatewayActivities, TaskInput, TaskPolicy, TaskResult, WebhookBody } from "../types.js";

/**
 * Deliveries go to WEBHOOK_TASK_QUEUE, a queue of their own: on the gateway's queue, receivers that never answer
 * took the slots the learner needed. Histories recorded before schedule theirs on GATEWAY_TASK_QUEUE on replay.
 */
export const WEBHOOK_QUEUE_PATCH = "webhook-queue";

// The learner is a nicety: a gateway that is not there within a minute, or a store that keeps failing, costs one
// task's lesson, never the task.
const learner = proxyActivities<Pick<GatewayActivities, "recordOutcomes">>({
  taskQueue: GATEWAY_TASK_QUEUE,
  scheduleToStartTimeout: "1 minute",
  startToCloseTimeout: "1 minute",
  retry: { initialInterval: "1 second", backoffCoefficient: 2, maximumInterval: "10 seconds", maximumAttempts: 3 },
});

/**
 * How long a webhook try waits for a gateway to pick it up: long enough to ride out a gateway restart, short
 * enough that a task whose gateways are all gone still ends (a schedule-to-start timeout is not retried).
 */
const WEBHOOK_SCHEDULE_TO_START_MS = 10 * 60_000;

function webhookSender(policy: TaskPolicy, taskQueue: string): Pick<GatewayActivities, "deliverWebhook"> {
  const p = policy.webhook;
  return proxyActivities<Pick<GatewayActivities, "deliverWebhook">>({
    taskQueue,
    startToCloseTimeout: p.startToCloseMs,
    scheduleToStartTimeout: WEBHOOK_SCHEDULE_TO_START_MS,
    retry: {
      initialInterval: p.initialIntervalMs,
      backoffCoefficient: 2,
      // Temporal refuses a maximum below the initial interval, which would fail the workflow task, not the try.
      maximumInterval: Math.max(p.initialIntervalMs, p.maximumIntervalMs),
      maximumAttempts: p.maximumAttempts,
      nonRetryableErrorTypes: ["webhook_not_allowed"],
    },
  });
}

/** Why a gateway activity gave up, in one line for the result. */
function failureMessage(error: unknown): string {
  const cause = error instanceof ActivityFailure && error.cause ? error.cause : error;
  if (cause instanceof TimeoutFailure) return `timed out (${(cause.timeoutType ?? "unknown").toLowerCase()}): ${cause.message}`;
  return cause instanceof Error ? cause.message : String(error);
}

/**
 * Tells the learner (input.learn) and the webhook (input.webhook) about the recorded task. `result` is the recorded
 * result, final already and shown as it is by the state query meanwhile: only its `learning` and `webhook` change
 * here, from pending to their outcome. Cancelled now, the task is still done and recorded: the notifications stop,
 * the result stands.
 */
export async function notify(input: TaskInput, result: TaskResult, policy: TaskPolicy): Promise<void> {
  if (input.learn) result.learning = { pending: true };
  if (input.webhook) result.webhook = { pending: true };
  let cancelled = false;
  if (input.learn) {
    try {
      result.learning = await learner.recordOutcomes({
        taskId: input.taskId,
        tenant: input.actor.tenant,
        microtasks: result.microtasks
          .filter((m) => m.model !== undefined && m.executionId !== undefined)
          .map((m) => ({
            id: m.id,
            status: m.status,
            model: m.model!,
            executionId: m.executionId!,
            promptTokens: m.promptTokens,
            completionTokens: m.completionTokens,
            ...(m.error ? { error: m.error } : {}),
          })),
      });
    } catch (failure) {
      if (isCancellation(failure)) cancelled = true;
      result.learning = { skipped: cancelled ? "cancelled" : failureMessage(failure) };
    }
  }
  if (!input.webhook) return;
  if (cancelled) {
    result.webhook = { failed: "cancelled before delivery" };
    return;
  }
  const body: WebhookBody = {
    object: "task.event",
    type: result.status === "succeeded" ? "task.succeeded" : "task.failed",
    taskId: input.taskId,
    status: result.status,
    result: result.result,
    error: result.error ?? null,
    links: { task: `/v1/tasks/${input.taskId}`, execution: `/v1/executions/${input.taskId}` },
  };
  const taskQueue = patched(WEBHOOK_QUEUE_PATCH) ? WEBHOOK_TASK_QUEUE : GATEWAY_TASK_QUEUE;
  try {
    result.webhook = await webhookSender(policy, taskQueue).deliverWebhook({ taskId: input.taskId, tenant: input.actor.tenant, url: input.webhook.url, body });
  } catch (failure) {
    result.webhook = { failed: isCancellation(failure) ? "cancelled during delivery" : failureMessage(failure) };
  }
}
