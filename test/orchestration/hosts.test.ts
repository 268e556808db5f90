import { Client } from "@temporalio/client";
import { NativeConnection } from "@temporalio/worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { submitTask } from "../../src/orchestration/client.js";
import { inferenceTaskQueue } from "../../src/orchestration/names.js";
import type { Microtask, TaskInput } from "../../src/orchestration/types.js";
import { startAtomicWorker, type RunningAtomicWorker } from "../../src/orchestration/worker.js";
import type { Actor } from "../../src/store/interface.js";
import { uuidv7 } from "../../src/util/uuidv7.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { writeTestModels } from "../support/models.js";
import { sharedTemporal, testWorkflows } from "../support/temporal.js";
import { openTestPipeline, testLogger, type TestPipeline } from "../support/temporal-env.js";

const actor: Actor = { subject: "hosts-test", tenant: "default", tokenIdHash: "test" };

let database: TestDatabase;
const pipelines: TestPipeline[] = [];
const workers: RunningAtomicWorker[] = [];
let connection: NativeConnection;
let client: Client;

beforeAll(async () => {
  const { address, namespace } = sharedTemporal("atomic-test-hosts");
  database = await createTestDatabase();
  // Two model hosts, each with one model of its own, and a third process's worth of control duties.
  for (const [hostId, model, seed] of [["host-north", "north-model", 1], ["host-south", "south-model", 2]] as const) {
    const models = writeTestModels([{ id: model, options: { seed } }]);
    const pipeline = await openTestPipeline({ databaseUrl: database.url, manifestPath: models.manifestPath });
    pipelines.push(pipeline);
    workers.push(await startAtomicWorker({ address, namespace, hostId, logger: testLogger(), inference: { pipeline: pipeline.pipeline, models: pipeline.catalog } }));
  }
  workers.push(await startAtomicWorker({
    address,
    namespace,
    hostId: "control",
    logger: testLogger(),
    control: { executions: pipelines[0]!.stores.executions, contentHasher: pipelines[0]!.pipeline.contentHasher },
    workflows: testWorkflows(),
  }));
  connection = await NativeConnection.connect({ address });
  client = new Client({ connection, namespace });
});

afterAll(async () => {
  for (const worker of workers) await worker.shutdown();
  await connection?.close();
  for (const pipeline of pipelines) await pipeline.close();
  await database?.drop();
});

const ask = (id: string, model: string): Microtask => ({ id, model, input: { kind: "completion", prompt: `${id}:` }, dependsOn: [], options: { maxTokens: 4, seed: 1 } });

describe("model hosts on their own task queues", () => {
  it("sends each microtask only to the host that has its model loaded", async () => {
    const microtasks = [ask("n1", "north-model"), ask("s1", "south-model"), ask("n2", "north-model"), ask("s2", "south-model")];
    const input: TaskInput = { taskId: uuidv7(), requestId: `req-${uuidv7()}`, actor, microtasks };
    const result = await (await submitTask(client, input)).result();
    expect(result.status).toBe("succeeded");
    const hostOf = (model: string) => (model === "north-model" ? "host-north" : "host-south");
    for (const m of result.microtasks) {
      expect(m.fallbacks).toEqual([]);
      expect(m.taskQueue).toBe(inferenceTaskQueue(hostOf(m.model!)));
    }
    // Who actually ran each inference, from the workflow's history: the worker identity starts with its host id.
    const history = await client.workflow.getHandle(input.taskId).fetchHistory();
    const events = history.events ?? [];
    const ran = events.filter((e) => e.activityTaskStartedEventAttributes).map((e) => {
      const scheduled = events.find((s) => String(s.eventId) === String(e.activityTaskStartedEventAttributes!.scheduledEventId))!;
      return { queue: scheduled.activityTaskScheduledEventAttributes!.taskQueue!.name!, identity: e.activityTaskStartedEventAttributes!.identity! };
    }).filter((r) => r.queue.startsWith("atomic-inference-"));
    expect(ran).toHaveLength(4);
    for (const r of ran) expect(r.identity.startsWith(`${r.queue.slice("atomic-inference-".length)}@`)).toBe(true);
    expect(new Set(ran.map((r) => r.queue))).toEqual(new Set([inferenceTaskQueue("host-north"), inferenceTaskQueue("host-south")]));
  });
});
