import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DeterminismViolationError } from "@temporalio/workflow";
import { Worker } from "@temporalio/worker";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureTemporalRuntime } from "../../src/orchestration/runtime.js";
import { WORKFLOW_TRACING_MODULE } from "../../src/orchestration/tracing.js";
import { testWorkflows } from "../support/temporal.js";
import { testLogger } from "../support/temporal-env.js";

/**
 * As every worker runs workflows: today's workflow code with the OpenTelemetry workflow interceptors (which histories
 * recorded before them must survive), bundled once for the suite (bundle.ts) rather than by webpack for each replay.
 */
const worker = () => ({ workflowBundle: { codePath: testWorkflows().bundlePath } });
const fixture = (name: string): unknown => JSON.parse(readFileSync(join(import.meta.dirname, "fixtures", name), "utf8"));

/**
 * Histories recorded from real runs (`ATOMIC_RECORD_HISTORY=1 npx vitest run test/orchestration/task-workflow.test.ts
 * test/orchestration/gateway-activities.test.ts test/orchestration/webhook-isolation.test.ts` refreshes them) replayed against today's workflow code, with no
 * server: a change that would break tasks already running fails here first. Keep old fixtures when the workflow
 * changes; add new ones beside them.
 */
beforeAll(() => ensureTemporalRuntime(testLogger()));

describe("workflow replay", () => {
  // learn-webhook-history.json: a task that teaches the learner and sends a webhook after its record.
  // *-local-control-history.json: recorded since locate and validate became local activities (LOCAL_CONTROL_PATCH).
  // *-local-finish-history.json: recorded since the workflow task that gets the last inference result also finishes
  // the task (LOCAL_FINISH_PATCH).
  // *-local-inference-history.json: recorded since a worker that is the host infers short microtasks in place
  // (LOCAL_INFERENCE_PATCH): here-… did so, the others had their inference on a host of its own.
  // here-placed-history.json: started with the placement read at submission (TaskInput.placement), no locate first.
  // *-queue-history.json: recorded since webhooks have a queue of their own (WEBHOOK_QUEUE_PATCH); the older
  // learn-webhook-* histories deliver on the gateway's queue. webhook-queue-… also holds a cancel update refused
  // once the task was recorded, cancel-update-… one accepted while the task ran (cancelTaskUpdate).
  // cancel-request-history.json: recorded by the code before the update (86fd3dd), Temporal's own cancel request
  // while the inference ran, which today's code takes inside the cancellation scope of the task's work.
  it.each([
    "task-history.json", "fallback-history.json", "learn-webhook-history.json", "task-local-control-history.json", "fallback-local-control-history.json",
    "task-local-finish-history.json", "fallback-local-finish-history.json", "learn-webhook-local-finish-history.json",
    "task-local-inference-history.json", "fallback-local-inference-history.json", "learn-webhook-local-inference-history.json",
    "here-local-inference-history.json", "here-placed-history.json",
    "learn-webhook-queue-history.json", "webhook-queue-history.json", "cancel-update-history.json", "cancel-request-history.json",
  ])("replays %s deterministically", async (name) => {
    await expect(Worker.runReplayHistory(worker(), fixture(name), name)).resolves.toBeUndefined();
  });

  it("catches a workflow change that does not match a recorded history", async () => {
    const changed = join(import.meta.dirname, "fixtures", "changed-workflows.ts");
    const changedWorker = { workflowsPath: changed, interceptors: { workflowModules: [WORKFLOW_TRACING_MODULE] } };
    await expect(Worker.runReplayHistory(changedWorker, fixture("task-history.json"), "changed")).rejects.toBeInstanceOf(DeterminismViolationError);
  });
});
