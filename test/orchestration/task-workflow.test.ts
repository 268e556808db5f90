import { appendFileSync } from "node:fs";
import { Client } from "@temporalio/client";
import { NativeConnection, Worker } from "@temporalio/worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { askToCancel, cancelTask, getTaskStatus, submitTask } from "../../src/orchestration/client.js";
import { taskProgressQuery } from "../../src/orchestration/workflows/task.js";
import { inferenceTaskQueue } from "../../src/orchestration/names.js";
import type { Microtask, TaskInput, TaskResult } from "../../src/orchestration/types.js";
import { startAtomicWorker, type RunningAtomicWorker } from "../../src/orchestration/worker.js";
import type { Actor } from "../../src/store/interface.js";
import { uuidv7 } from "../../src/util/uuidv7.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { writeTestModels } from "../support/models.js";
import { sharedTemporal, testWorkflows } from "../support/temporal.js";
import { openTestPipeline, testLogger, type TestPipeline } from "../support/temporal-env.js";
import { inferencesIn, recordHistoryFixture } from "./history.js";

const HOST = "tasks-host";
const actor: Actor = { subject: "orchestration-test", tenant: "default", tokenIdHash: "test" };

let database: TestDatabase;
let pipeline: TestPipeline;
let workers: RunningAtomicWorker[] = [];
let connection: NativeConnection;
let client: Client;

beforeAll(async () => {
  const { address, namespace } = sharedTemporal("atomic-test-tasks");
  const models = writeTestModels([{ id: "alpha" }, { id: "beta", options: { seed: 2 } }, { id: "tampered", options: { seed: 3 } }]);
  // A real fault: the file no longer matches its pinned digest, so the host refuses the model and inference on it fails.
  appendFileSync(models.pathOf("tampered"), Buffer.from([0]));
  database = await createTestDatabase();
  pipeline = await openTestPipeline({ databaseUrl: database.url, manifestPath: models.manifestPath });
  // Workflows and inference in workers of their own, as separate `atomic worker` processes run them: every microtask
  // goes to its host's queue as an activity. (A worker that is also the host runs short ones in place:
  // local-inference.test.ts.)
  workers = [
    await startAtomicWorker({
      address,
      namespace,
      hostId: "tasks-control",
      logger: testLogger(),
      control: { executions: pipeline.stores.executions, contentHasher: pipeline.pipeline.contentHasher },
      workflows: testWorkflows(),
    }),
    await startAtomicWorker({ address, namespace, hostId: HOST, logger: testLogger(), inference: { pipeline: pipeline.pipeline, models: pipeline.catalog } }),
  ];
  connection = await NativeConnection.connect({ address });
  client = new Client({ connection, namespace });
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.shutdown()));
  await connection?.close();
  await pipeline?.close();
  await database?.drop();
});

const ask = (id: string, model: string, prompt: string, dependsOn: string[] = [], extra: Partial<Microtask> = {}): Microtask => ({
  id,
  model,
  input: { kind: "completion", prompt },
  dependsOn,
  options: { maxTokens: 8, temperature: 0, seed: 1 },
  ...extra,
});


async function runTask(microtasks: Microtask[]): Promise<{ input: TaskInput; result: TaskResult }> {
  const input: TaskInput = { taskId: uuidv7(), requestId: `req-${uuidv7()}`, actor, microtasks };
  const handle = await submitTask(client, input);
  return { input, result: await handle.result() };
}

describe("task workflow", () => {
  it("runs independent microtasks in parallel and a dependent one after both, with their outputs", async () => {
    const { input, result } = await runTask([
      ask("a", "alpha", "first:"),
      ask("b", "beta", "second:"),
      ask("c", "alpha", "combine {{a}} with", ["a", "b"]),
    ]);
    expect(result.status).toBe("succeeded");
    expect(result.microtasks.map((m) => [m.id, m.status, m.model, m.taskQueue])).toEqual([
      ["a", "succeeded", "alpha", inferenceTaskQueue(HOST)],
      ["b", "succeeded", "beta", inferenceTaskQueue(HOST)],
      ["c", "succeeded", "alpha", inferenceTaskQueue(HOST)],
    ]);
    const [a, b, c] = result.microtasks;
    expect(result.result).toBe(c!.text);

    // Order from the workflow's own history: a and b both scheduled before either finished; c after both.
    const scheduled = inferencesIn(await client.workflow.getHandle(input.taskId).fetchHistory());
    const of = (id: string) => scheduled.find((s) => s.microtask === id)!;
    expect(scheduled).toHaveLength(3);
    expect(Math.max(of("a").eventId, of("b").eventId)).toBeLessThan(Math.min(of("a").closedEventId!, of("b").closedEventId!));
    expect(of("c").eventId).toBeGreaterThan(Math.max(of("a").closedEventId!, of("b").closedEventId!));

    // The dependent's recorded input holds both predecessors' outputs: a in its placeholder, b appended.
    const recorded = await pipeline.stores.executions.get(actor.tenant, c!.executionId!);
    expect(recorded).toMatchObject({ status: "succeeded", endpoint: "tasks", modelId: "alpha", requestId: input.requestId });
    const prompt = (recorded!.input as { input: { prompt: string } }).input.prompt;
    expect(prompt).toBe(`combine ${a!.text} with\n\n[b]\n${b!.text}`);

    // The task's own record: the assembled output and every microtask's decision.
    const task = await pipeline.stores.executions.get(actor.tenant, input.taskId);
    expect(task).toMatchObject({ status: "succeeded", endpoint: "tasks", modelId: "alpha", output: c!.text });
    expect((task!.parameters as { microtasks: unknown[] }).microtasks).toHaveLength(3);

    // The history replays against the workflow code: nothing in it is non-deterministic.
    await Worker.runReplayHistory({ workflowBundle: { codePath: testWorkflows().bundlePath } }, await client.workflow.getHandle(input.taskId).fetchHistory(), input.taskId);
    // ATOMIC_RECORD_HISTORY=1 refreshes the fixture replay.test.ts replays (export format of `temporal workflow show`).
    // Older fixtures are kept as they were recorded: task-history.json before the control activities became local
    // (LOCAL_CONTROL_PATCH), task-local-control-history.json before one workflow task finished the task
    // (LOCAL_FINISH_PATCH), task-local-finish-history.json before a host could infer in place (LOCAL_INFERENCE_PATCH).
    if (process.env["ATOMIC_RECORD_HISTORY"]) recordHistoryFixture(sharedTemporal("atomic-test-tasks"), input.taskId, "task-local-inference-history.json");
  });

  it("moves a microtask whose model fails to its next model, and records the failure", async () => {
    const { input, result } = await runTask([ask("only", "tampered", "hello", [], { fallbackModels: ["ghost", "beta"] })]);
    expect(result.status).toBe("succeeded");
    const [only] = result.microtasks;
    expect(only).toMatchObject({ status: "succeeded", model: "beta" });
    expect(only!.fallbacks).toEqual([
      expect.objectContaining({ model: "tampered", taskQueue: inferenceTaskQueue(HOST), outcome: "failed", code: "model_digest_mismatch" }),
      expect.objectContaining({ model: "ghost", taskQueue: null, outcome: "no_host" }),
    ]);
    // The failed try is an execution of its own, and the task's record names the fallback.
    const scheduled = inferencesIn(await client.workflow.getHandle(input.taskId).fetchHistory());
    expect(scheduled.map((s) => s.model)).toEqual(["tampered", "beta"]);
    const task = await pipeline.stores.executions.get(actor.tenant, input.taskId);
    expect(task).toMatchObject({ status: "succeeded", modelId: "beta" });
    expect(task!.parameters).toMatchObject({ microtasks: [{ id: "only", model: "beta", fallbacks: [{ model: "tampered", code: "model_digest_mismatch" }, { model: "ghost", outcome: "no_host" }] }] });
    const failures = await pipeline.stores.pool.query("SELECT status, error_code FROM executions WHERE request_id = $1 AND model_id = 'tampered'", [input.requestId]);
    expect(failures.rows).toEqual([{ status: "failed", error_code: "model_digest_mismatch" }]);
    if (process.env["ATOMIC_RECORD_HISTORY"]) recordHistoryFixture(sharedTemporal("atomic-test-tasks"), input.taskId, "fallback-local-inference-history.json");
  });

  it("fails the task when every model fails, skips what depended on it, and still records it", async () => {
    const { input, result } = await runTask([ask("x", "tampered", "hello"), ask("y", "alpha", "then", ["x"])]);
    expect(result).toMatchObject({ status: "failed", result: null, error: { code: "microtask_failed" } });
    expect(result.microtasks.map((m) => [m.id, m.status, m.error?.code])).toEqual([["x", "failed", "all_models_failed"], ["y", "skipped", "dependency_failed"]]);
    const task = await pipeline.stores.executions.get(actor.tenant, input.taskId);
    expect(task).toMatchObject({ status: "failed", errorCode: "microtask_failed", output: null });
  });

  it("reports a task's status, and cancels a running task's inference", async () => {
    const { input, result } = await runTask([ask("quick", "alpha", "hi")]);
    expect(await getTaskStatus(client, input.taskId)).toEqual({ taskId: input.taskId, state: "completed", result });
    expect(await getTaskStatus(client, uuidv7())).toBeNull();

    const long: TaskInput = { taskId: uuidv7(), requestId: `req-${uuidv7()}`, actor, microtasks: [ask("long", "alpha", "go", [], { options: { maxTokens: 4000, temperature: 1 } })] };
    const handle = await submitTask(client, long);
    // Running with its model chosen: the inference has been scheduled on the host.
    while ((await handle.query(taskProgressQuery)).microtasks[0]!.model === undefined) await new Promise((r) => setTimeout(r, 20));
    expect(await getTaskStatus(client, long.taskId)).toMatchObject({ state: "running", progress: { microtasks: [{ id: "long", state: "running", model: "alpha" }] } });
    await cancelTask(client, long.taskId);
    await expect(handle.result()).rejects.toThrow();
    expect(await getTaskStatus(client, long.taskId)).toMatchObject({ state: "cancelled" });
  });

  it("answers concurrent cancels in the workflow: one is accepted, the others hear it is cancelling, nothing is recorded", async () => {
    const long: TaskInput = { taskId: uuidv7(), requestId: `req-${uuidv7()}`, actor, microtasks: [ask("long", "alpha", "go", [], { options: { maxTokens: 4000, temperature: 1 } })] };
    const handle = await submitTask(client, long);
    while ((await handle.query(taskProgressQuery)).microtasks[0]!.model === undefined) await new Promise((r) => setTimeout(r, 20));
    const answers = await Promise.all([1, 2, 3].map(() => askToCancel(handle)));
    expect(answers.sort()).toEqual(["already_cancelling", "already_cancelling", "cancelling"]);
    await expect(handle.result()).rejects.toThrow();
    // Ended as Temporal's own cancel ends a task: the accepted cancel was followed by one.
    expect((await handle.describe()).status.name).toBe("CANCELLED");
    expect(await getTaskStatus(client, long.taskId)).toMatchObject({ state: "cancelled" });
    expect(await askToCancel(handle)).toBe("not_running");
    expect(await pipeline.stores.executions.get(actor.tenant, long.taskId)).toBeNull();
    await Worker.runReplayHistory({ workflowBundle: { codePath: testWorkflows().bundlePath } }, await handle.fetchHistory(), long.taskId);
    if (process.env["ATOMIC_RECORD_HISTORY"]) recordHistoryFixture(sharedTemporal("atomic-test-tasks"), long.taskId, "cancel-update-history.json");
  });

  it("refuses a task whose microtasks depend on each other in a cycle before starting it", async () => {
    await expect(runTask([ask("p", "alpha", "x", ["q"]), ask("q", "alpha", "y", ["p"])])).rejects.toThrow(/cycle/);
  });
});
