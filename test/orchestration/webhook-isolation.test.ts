import { mkdtempSync } from "node:fs";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, type WorkflowHandle } from "@temporalio/client";
import { NativeConnection, Worker } from "@temporalio/worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateSigningKey } from "../../src/audit/core/keys.js";
import { askToCancel, getTaskStatus, submitTask } from "../../src/orchestration/client.js";
import { WEBHOOK_TASK_QUEUE } from "../../src/orchestration/names.js";
import type { Actor } from "../../src/store/interface.js";
import type { TaskInput } from "../../src/orchestration/types.js";
import { WEBHOOK_CONCURRENCY, startAtomicWorker, type RunningAtomicWorker } from "../../src/orchestration/worker.js";
import { uuidv7 } from "../../src/util/uuidv7.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { writeTestModels } from "../support/models.js";
import { sharedTemporal, testWorkflows } from "../support/temporal.js";
import { openTestPipeline, testLogger, type TestPipeline } from "../support/temporal-env.js";
import { until } from "../support/until.js";
import { recordHistoryFixture } from "./history.js";

/**
 * Webhook receivers that never answer, against the worker a gateway runs (control, inference and its own
 * activities in one process) on the real dev server: a task's result is final and served while its delivery hangs,
 * and a flood of such deliveries takes only the webhooks' own slots, not those of the gateway's other activities.
 */
const actor: Actor = { subject: "webhook-isolation-test", tenant: "default", tokenIdHash: "test" };
/**
 * More tasks with hanging receivers than the gateway's own queue has activity slots (the SDK's default, 100), which
 * webhook deliveries shared with the learner before they had a queue of their own.
 */
const FLOOD = 110;
/** Submitted this many at a time, each batch recorded before the next: the test model's queue holds 16. */
const BATCH = 8;
// One attempt that waits as long as a policy allows: the receiver, not a timeout, decides when it ends.
const HANGING = { webhook: { maximumAttempts: 1, startToCloseMs: 10 * 60_000 } };

/** A receiver on 127.0.0.1 that answers nothing until told to: each request is held, by the task it is for. */
class HangingReceiver {
  readonly held = new Map<string, ServerResponse>();
  private readonly server: Server = createServer((request, response) => {
    request.resume().on("end", () => this.held.set(String(request.headers["x-atomic-task-id"]), response));
  });

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  release(taskId: string, status: number): void {
    this.held.get(taskId)?.writeHead(status).end();
    this.held.delete(taskId);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

let database: TestDatabase;
let pipeline: TestPipeline;
let worker: RunningAtomicWorker;
let connection: NativeConnection;
let client: Client;
let receiver: HangingReceiver;
let origin: string;
const started: string[] = [];

beforeAll(async () => {
  const { address, namespace } = sharedTemporal("atomic-test-webhook-isolation");
  database = await createTestDatabase();
  pipeline = await openTestPipeline({ databaseUrl: database.url, manifestPath: writeTestModels([{ id: "alpha" }]).manifestPath });
  receiver = new HangingReceiver();
  origin = await receiver.listen();
  const logger = testLogger();
  worker = await startAtomicWorker({
    address,
    namespace,
    hostId: "webhook-isolation-host",
    logger,
    control: { executions: pipeline.stores.executions, contentHasher: pipeline.pipeline.contentHasher },
    inference: { pipeline: pipeline.pipeline, models: pipeline.catalog },
    // No learner: recordOutcomes answers {recorded: 0} at once, which shows that it ran.
    gateway: {
      executions: pipeline.stores.executions,
      signer: generateSigningKey(mkdtempSync(join(tmpdir(), "atomic-webhook-isolation-key-")), "atomic.webhook-isolation"),
      webhookAllow: [origin],
      webhookTimeoutMs: 10 * 60_000,
      logger,
    },
    workflows: testWorkflows(),
  });
  connection = await NativeConnection.connect({ address });
  client = new Client({ connection, namespace });
});

afterAll(async () => {
  // The flood's workflows end here, and their deliveries with the receiver's connections.
  await Promise.all(started.map((id) => client?.workflow.getHandle(id).terminate("test over").catch(() => undefined)));
  await receiver?.close();
  await worker?.shutdown();
  await connection?.close();
  await pipeline?.close();
  await database?.drop();
});

function task(extra: Partial<TaskInput> = {}): TaskInput {
  const taskId = uuidv7();
  started.push(taskId);
  return {
    taskId,
    requestId: `req-${taskId}`,
    actor,
    microtasks: [{ id: "only", model: "alpha", input: { kind: "completion", prompt: "hi" }, dependsOn: [], options: { maxTokens: 4, temperature: 0, seed: 1 } }],
    ...extra,
  };
}

const hanging = (): TaskInput => {
  const input = task({ policy: HANGING });
  return { ...input, webhook: { url: `${origin}/hang/${input.taskId}` } };
};

/** The task queues a workflow scheduled an activity type on, in history order. */
async function queuesOf(handle: WorkflowHandle, activityType: string): Promise<string[]> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).flatMap((event) => {
    const scheduled = event.activityTaskScheduledEventAttributes;
    return scheduled?.activityType?.name === activityType ? [scheduled.taskQueue?.name ?? ""] : [];
  });
}

async function recorded(ids: string[]): Promise<number> {
  const rows = await pipeline.stores.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM executions WHERE id = ANY($1::uuid[])", [ids]);
  return rows.rows[0]!.n;
}

describe("webhooks to receivers that never answer", () => {
  it("serve the task's result as final while the delivery hangs, refuse to cancel it, and deliver on the webhooks' own queue", async () => {
    const input = hanging();
    const handle = await submitTask(client, input);
    await until(() => receiver.held.has(input.taskId));

    // The receiver holds the delivery: the workflow still runs, and the task's recorded result is what it shows.
    expect((await handle.describe()).status.name).toBe("RUNNING");
    const status = await getTaskStatus(client, input.taskId);
    expect(status).toMatchObject({ state: "completed", result: { status: "succeeded", webhook: { pending: true } } });
    const record = await pipeline.stores.executions.get(actor.tenant, input.taskId);
    expect(status?.state === "completed" ? status.result.result : undefined).toEqual(record!.output);
    // Final: there is nothing left to cancel, and asking stops nothing.
    expect(await askToCancel(handle)).toBe("recorded");
    expect(await askToCancel(handle)).toBe("recorded");
    // Refused by the update's validator: the cancels left nothing in the history.
    const updates = ((await handle.fetchHistory()).events ?? []).filter((event) => event.workflowExecutionUpdateAcceptedEventAttributes);
    expect(updates).toEqual([]);
    expect(await queuesOf(handle, "deliverWebhook")).toEqual([WEBHOOK_TASK_QUEUE]);

    receiver.release(input.taskId, 204);
    expect((await handle.result()).webhook).toEqual({ delivered: true, attempts: 1, status: 204 });
    expect(await getTaskStatus(client, input.taskId)).toMatchObject({ state: "completed", result: { webhook: { delivered: true } } });
    // The history (a patch marker, then the delivery on its own queue) replays against the code.
    await Worker.runReplayHistory({ workflowBundle: { codePath: testWorkflows().bundlePath } }, await handle.fetchHistory(), input.taskId);
    if (process.env["ATOMIC_RECORD_HISTORY"]) recordHistoryFixture(sharedTemporal("atomic-test-webhook-isolation"), input.taskId, "webhook-queue-history.json");
  });

  it("take only the webhooks' own slots: a flood of them does not hold back another task's learning", async () => {
    const flood: string[] = [];
    for (let submitted = 0; submitted < FLOOD; submitted += BATCH) {
      const batch = Array.from({ length: Math.min(BATCH, FLOOD - submitted) }, hanging);
      await Promise.all(batch.map((input) => submitTask(client, input)));
      const ids = batch.map((input) => input.taskId);
      await until(async () => (await recorded(ids)) === ids.length);
      flood.push(...ids);
    }
    // Every slot of the webhook worker is held by a receiver that does not answer; the other deliveries wait.
    await until(() => receiver.held.size >= WEBHOOK_CONCURRENCY);

    // A task that teaches the learner: recordOutcomes runs at once on the gateway's queue. Sharing its slots with the
    // deliveries, it waited behind them until its schedule-to-start timeout (1 min) and was skipped.
    const result = await (await submitTask(client, task({ learn: true }))).result();
    expect(result).toMatchObject({ status: "succeeded", learning: { recorded: 0 } });

    // No more deliveries in flight than the webhook worker's slots, and the flood's results are served meanwhile.
    expect(receiver.held.size).toBeLessThanOrEqual(WEBHOOK_CONCURRENCY);
    for (const id of [flood[0]!, flood.at(-1)!]) {
      expect(await getTaskStatus(client, id)).toMatchObject({ state: "completed", result: { status: "succeeded", webhook: { pending: true } } });
    }
  }, 180_000);
});
