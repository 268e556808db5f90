/**
 * Names shared by workflows, activities, workers and clients. Plain constants only: workflow code imports this
 * file, so it must stay free of Node APIs and side effects.
 */

/** Where task workflows and the control activities (locate, validate, record) run: any Atomic worker polls it. */
export const CONTROL_TASK_QUEUE = "atomic-orchestration";

/** Activities that need the gateway process itself (its learner, its signing key): served by every gateway. */
export const GATEWAY_TASK_QUEUE = "atomic-gateway";

/**
 * Webhook deliveries (signed with the gateway's key, so served by every gateway too), apart from GATEWAY_TASK_QUEUE:
 * a receiver that never answers holds a worker slot for a whole attempt, and a flood of tasks with such receivers
 * must not take the slots the learner's activities need. Its worker bounds the deliveries in flight.
 */
export const WEBHOOK_TASK_QUEUE = "atomic-webhooks";

/** The one long-running workflow that holds which model host serves which models. */
export const HOST_DIRECTORY_WORKFLOW_ID = "atomic-host-directory";

/** Host ids appear in task queue names and logs: letters, digits, dot, dash and underscore. */
export const HOST_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** The task queue of one model host's inference activities, so a microtask lands where its model is loaded. */
export function inferenceTaskQueue(hostId: string): string {
  if (!HOST_ID_PATTERN.test(hostId)) throw new Error(`host id ${JSON.stringify(hostId)} must match ${HOST_ID_PATTERN}`);
  return `atomic-inference-${hostId}`;
}

/** The failure type of a local inference run by a worker that is not the chosen host (runMicrotaskHere). */
export const NOT_HERE = "not_here";
