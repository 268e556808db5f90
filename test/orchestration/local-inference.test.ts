import { Client } from "@temporalio/client";
import { NativeConnection, Worker } from "@temporalio/worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { submitTask } from "../../src/orchestration/client.js";
import { inferenceTaskQueue } from "../../src/orchestration/names.js";
import type { Microtask, TaskInput, TaskResult } from "../../src/orchestration/types.js";
import { startAtomicWorker, type RunningAtomicWorker } from "../../src/orchestration/worker.js";
import { LOCAL_INFERENCE_MAX_TOKENS, PLACEMENT_MAX_AGE_MS } from "../../src/orchestration/workflows/task.js";
import type { Actor } from "../../src/store/interface.js";
import { uuidv7 } from "../../src/util/uuidv7.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { writeTestModels } from "../support/models.js";
import { sharedTemporal, testWorkflows } from "../support/temporal.js";
import { openTestPipeline, testLogger, type TestPipeline } from "../support/temporal-env.js";
import { inferencesIn, localActivitiesIn, recordHistoryFixture } from "./history.js";

/**
 * A worker that runs task workflows and is the model host too (as a gateway with its in-process worker is): a
 * short microtask on a model it serves is inferred right there, as a local activity of the workflow task that
 * located it, and the task finishes in that one workflow task; a longer one still goes to its queue.
 */
const HOST = "here-host";
const actor: Actor = { subject: "orchestration-test", tenant: "default", tokenIdHash: "test" };

let database: TestDatabase;
let pipeline: TestPipeline;
let worker: RunningAtomicWorker;
let connection: NativeConnection;
let client: Client;

beforeAll(async () => {
  const { address, namespace } = sharedTemporal("atomic-test-local-inference");
  const models = writeTestModels([{ id: "alpha" }]);
  database = await createTestDatabase();
  pipeline = await openTestPipeline({ databaseUrl: database.url, manifestPath: models.manifestPath });
  worker = await startAtomicWorker({
    address,
    namespace,
    hostId: HOST,
    logger: testLogger(),
    control: { executions: pipeline.stores.executions, contentHasher: pipeline.pipeline.contentHasher },
    inference: { pipeline: pipeline.pipeline, models: pipeline.catalog },
    workflows: testWorkflows(),
  });
  connection = await NativeConnection.connect({ address });
  client = new Client({ connection, namespace });
});

afterAll(async () => {
  await worker?.shutdown();
  await connection?.close();
  await pipeline?.close();
  await database?.drop();
});

const ask = (id: string, prompt: string, maxTokens: number, dependsOn: string[] = []): Microtask => ({
  id,
  model: "alpha",
  input: { kind: "completion", prompt },
  dependsOn,
  options: { maxTokens, temperature: 0, seed: 1 },
});

async function runTask(microtasks: Microtask[], fields: Partial<TaskInput> = {}): Promise<{ input: TaskInput; result: TaskResult }> {
  const input: TaskInput = { taskId: uuidv7(), requestId: `req-${uuidv7()}`, actor, microtasks, ...fields };
  const handle = await submitTask(client, input);
  return { input, result: await handle.result() };
}

/** Started as the gateway starts its tasks: eagerly, on the worker's own client, with the placement read here. */
async function runTaskEagerly(microtasks: Microtask[]): Promise<{ input: TaskInput; result: TaskResult }> {
  const input: TaskInput = { taskId: uuidv7(), requestId: `req-${uuidv7()}`, actor, microtasks };
  const handle = await submitTask(worker.client, input, { eager: true, locate: worker.locate! });
  return { input, result: await handle.result() };
}

const localActivitiesOf = async (taskId: string) => localActivitiesIn(await client.workflow.getHandle(taskId).fetchHistory());

const eventsOf = async (taskId: string) => (await client.workflow.getHandle(taskId).fetchHistory()).events ?? [];

describe("inference on the worker's own host", () => {
  it("runs short microtasks in the workflow task that located them, each recorded once", async () => {
    const { input, result } = await runTask([ask("a", "first:", 6), ask("b", "then {{a}}", LOCAL_INFERENCE_MAX_TOKENS, ["a"])]);
    expect(result.status).toBe("succeeded");
    expect(result.microtasks.map((m) => [m.id, m.status, m.taskQueue])).toEqual([["a", "succeeded", inferenceTaskQueue(HOST)], ["b", "succeeded", inferenceTaskQueue(HOST)]]);

    // No activity went through the server: the whole task is one workflow task.
    const events = await eventsOf(input.taskId);
    expect(events.filter((e) => e.activityTaskScheduledEventAttributes)).toEqual([]);
    expect(events.filter((e) => e.workflowTaskCompletedEventAttributes)).toHaveLength(1);

    // The dependent got its predecessor's output, and each inference is one execution.
    const [a, b] = result.microtasks;
    const recorded = await pipeline.stores.executions.get(actor.tenant, b!.executionId!);
    expect((recorded!.input as { input: { prompt: string } }).input.prompt).toBe(`then ${a!.text}`);
    const rows = await pipeline.stores.pool.query("SELECT id, status FROM executions WHERE request_id = $1 AND id <> $2 ORDER BY id", [input.requestId, input.taskId]);
    expect(rows.rows).toEqual([a!.executionId, b!.executionId].sort().map((id) => ({ id, status: "succeeded" })));

    await Worker.runReplayHistory({ workflowBundle: { codePath: testWorkflows().bundlePath } }, await client.workflow.getHandle(input.taskId).fetchHistory(), input.taskId);
    if (process.env["ATOMIC_RECORD_HISTORY"]) recordHistoryFixture(sharedTemporal("atomic-test-local-inference"), input.taskId, "here-local-inference-history.json");
  });

  it("sends a microtask allowed more tokens than that to its host's queue as an activity", async () => {
    const { input, result } = await runTask([ask("long", "go:", LOCAL_INFERENCE_MAX_TOKENS + 1)]);
    expect(result.status).toBe("succeeded");
    expect(inferencesIn(await client.workflow.getHandle(input.taskId).fetchHistory()).map((s) => [s.microtask, s.taskQueue])).toEqual([["long", inferenceTaskQueue(HOST)]]);
  });
});

describe("the placement read at submission", () => {
  it("stands in for locating the models of the microtasks that start with the task; later ones locate", async () => {
    const { input, result } = await runTaskEagerly([ask("a", "first:", 6), ask("b", "then {{a}}", 6, ["a"])]);
    expect(result.status).toBe("succeeded");
    expect(result.microtasks.map((m) => m.taskQueue)).toEqual([inferenceTaskQueue(HOST), inferenceTaskQueue(HOST)]);
    expect(await localActivitiesOf(input.taskId)).toEqual(["runMicrotaskHere", "locateModelsHere", "runMicrotaskHere", "recordTask"]);
    const events = await eventsOf(input.taskId);
    expect(events.filter((e) => e.workflowTaskCompletedEventAttributes)).toHaveLength(1);

    await Worker.runReplayHistory({ workflowBundle: { codePath: testWorkflows().bundlePath } }, await client.workflow.getHandle(input.taskId).fetchHistory(), input.taskId);
    if (process.env["ATOMIC_RECORD_HISTORY"]) recordHistoryFixture(sharedTemporal("atomic-test-local-inference"), input.taskId, "here-placed-history.json");
  });

  it("is not trusted when stale or when it names no host for a model: the workflow locates", async () => {
    const here = inferenceTaskQueue(HOST);
    const stale = await runTask([ask("a", "first:", 6)], { placement: { at: Date.now() - 10 * PLACEMENT_MAX_AGE_MS, hosts: { alpha: [here] }, here } });
    expect(stale.result.status).toBe("succeeded");
    expect(await localActivitiesOf(stale.input.taskId)).toEqual(["locateModelsHere", "runMicrotaskHere", "recordTask"]);

    const hostless = await runTask([ask("a", "first:", 6)], { placement: { at: Date.now(), hosts: { alpha: [] }, here } });
    expect(hostless.result.status).toBe("succeeded");
    expect(await localActivitiesOf(hostless.input.taskId)).toEqual(["locateModelsHere", "runMicrotaskHere", "recordTask"]);
  });

  it("is left out when the directory cannot be read at submission: the task starts and locates", async () => {
    const input: TaskInput = { taskId: uuidv7(), requestId: `req-${uuidv7()}`, actor, microtasks: [ask("a", "first:", 6)] };
    const handle = await submitTask(worker.client, input, { eager: true, locate: () => Promise.reject(new Error("directory unavailable")) });
    expect(await handle.result()).toMatchObject({ status: "succeeded" });
    expect(await localActivitiesOf(input.taskId)).toEqual(["locateModelsHere", "runMicrotaskHere", "recordTask"]);
  });

  it("costs only the shortcut when it says the wrong process is here: the host's queue still serves it", async () => {
    const { input, result } = await runTask([ask("a", "first:", 6)], { placement: { at: Date.now(), hosts: { alpha: [inferenceTaskQueue(HOST)] }, here: inferenceTaskQueue("elsewhere") } });
    expect(result.status).toBe("succeeded");
    expect(await localActivitiesOf(input.taskId)).toEqual(["recordTask"]);
    expect(inferencesIn(await client.workflow.getHandle(input.taskId).fetchHistory()).map((s) => s.taskQueue)).toEqual([inferenceTaskQueue(HOST)]);
  });
});
