import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import { setTimeout as delay } from "node:timers/promises";
import { Client } from "@temporalio/client";
import { NativeConnection } from "@temporalio/worker";
import type { QueryResultRow } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { submitTask } from "../../src/orchestration/client.js";
import type { TaskInput } from "../../src/orchestration/types.js";
import { taskProgressQuery } from "../../src/orchestration/workflows/task.js";
import { uuidv7 } from "../../src/util/uuidv7.js";
import { createTestDatabase, queryOnce, type TestDatabase } from "../support/database.js";
import { writeTestModels, type TestModels } from "../support/models.js";
import { compiledScript } from "../support/scripts.js";
import { sharedTemporal, testWorkflows } from "../support/temporal.js";

const { address, namespace } = sharedTemporal("atomic-test-durability");
const SCRIPT = compiledScript("test/orchestration/fixtures/worker-process.ts");
const STARTED = 2; // PENDING_ACTIVITY_STATE_STARTED
const WORKFLOW_TASK_TIMED_OUT = 8; // EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT

let database: TestDatabase;
let models: TestModels;
let connection: NativeConnection;
let client: Client;
const children = new Set<ChildProcess>();
const contentHashKey = randomBytes(32).toString("hex");

/** A worker process (control + inference for this host); resolves once it polls. */
async function startWorkerProcess(hostId: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [SCRIPT], {
    env: { ...process.env, ATOMIC_TEST_WORKER: JSON.stringify({ address, namespace, hostId, databaseUrl: database.url, manifestPath: models.manifestPath, contentHashKey, workflowBundle: testWorkflows().bundlePath }) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.add(child);
  child.once("exit", () => children.delete(child));
  const lines = createInterface({ input: child.stdout! });
  await new Promise<void>((resolve, reject) => {
    child.once("exit", (code, signal) => reject(new Error(`worker process exited before it was ready (${signal ?? code})`)));
    lines.on("line", (line) => {
      if (line.includes('"ready":true')) resolve();
    });
  });
  return child;
}

const query = <T extends QueryResultRow = Record<string, unknown>>(sql: string, values: unknown[]) => queryOnce<T>(database.url, sql, values);

beforeAll(async () => {
  // One sequence: a generation waits for the one before it (the second case relies on that).
  models = writeTestModels([{ id: "alpha", parallel: 1 }]);
  database = await createTestDatabase();
  connection = await NativeConnection.connect({ address });
  client = new Client({ connection, namespace });
});

afterAll(async () => {
  for (const child of children) child.kill("SIGKILL");
  await connection?.close();
  await database?.drop();
});

describe("durability", () => {
  it("completes a task whose worker is killed (SIGKILL) mid-inference, recording each microtask once", async () => {
    const first = await startWorkerProcess("durable-host");
    const input: TaskInput = {
      taskId: uuidv7(),
      requestId: `req-${uuidv7()}`,
      actor: { subject: "durability-test", tenant: "default", tokenIdHash: "test" },
      microtasks: [
        { id: "short", model: "alpha", input: { kind: "completion", prompt: "a" }, dependsOn: [], options: { maxTokens: 4, temperature: 0 } },
        // Long enough (about 2 s of tokens here) to be still generating when the worker is killed.
        { id: "long", model: "alpha", input: { kind: "completion", prompt: "b" }, dependsOn: ["short"], options: { maxTokens: 2000, temperature: 1 } },
      ],
      // A killed worker stops heartbeating: after 2 s its try is given up on and repeated.
      policy: { inference: { heartbeatMs: 2_000, maximumAttempts: 5, initialIntervalMs: 100 } },
    };
    const handle = await submitTask(client, input);

    // Wait until the long inference is running on the first worker, then kill that worker outright.
    for (;;) {
      const progress = await handle.query(taskProgressQuery);
      const pending = (await handle.describe()).raw.pendingActivities ?? [];
      const longRunning = progress.microtasks.some((m) => m.id === "long" && m.state === "running");
      if (longRunning && pending.some((a) => a.activityType?.name === "runMicrotask" && a.state === STARTED)) break;
      await delay(25);
    }
    const died = new Promise((resolve) => first.once("exit", resolve));
    first.kill("SIGKILL");
    await died;

    await startWorkerProcess("durable-host");
    const result = await handle.result();
    expect(result.status).toBe("succeeded");
    expect(result.microtasks.map((m) => [m.id, m.status])).toEqual([["short", "succeeded"], ["long", "succeeded"]]);

    const rows = await query<{ microtask: string; status: string; attempt: number; id: string }>(
      `SELECT input->>'microtask' AS microtask, status, (input->>'attempt')::int AS attempt, id::text
         FROM executions WHERE request_id = $1 AND id <> $2 ORDER BY created_at`,
      [input.requestId, input.taskId],
    );
    // One record per microtask: the killed try never recorded, its retry on the new worker did.
    expect(rows.map((r) => [r.microtask, r.status])).toEqual([["short", "succeeded"], ["long", "succeeded"]]);
    const long = rows.find((r) => r.microtask === "long")!;
    expect(long.attempt).toBeGreaterThan(1);
    expect(result.microtasks[1]!.executionId).toBe(long.id);
    expect(await query("SELECT status FROM executions WHERE id = $1", [input.taskId])).toEqual([{ status: "succeeded" }]);
  });

  it("completes a task whose worker is killed while it infers a short microtask in place, recording it once", async () => {
    // Only this case's workers: a workflow task must not go to one left from the case before.
    await Promise.all([...children].map((child) => new Promise((resolve) => {
      child.once("exit", resolve);
      child.kill("SIGKILL");
    })));
    const first = await startWorkerProcess("in-place-host");
    const actor = { subject: "durability-test", tenant: "default", tokenIdHash: "test" };
    // A long generation on the model first (as an activity: too long to run in place), so that the short one, run
    // in place, waits for the model inside its workflow task: the window the kill lands in, as long as the long one.
    const busy: TaskInput = {
      taskId: uuidv7(),
      requestId: `req-${uuidv7()}`,
      actor,
      microtasks: [{ id: "long", model: "alpha", input: { kind: "completion", prompt: "b" }, dependsOn: [], options: { maxTokens: 2000, temperature: 1 } }],
      policy: { inference: { heartbeatMs: 2_000, maximumAttempts: 5, initialIntervalMs: 100 } },
    };
    const busyHandle = await submitTask(client, busy);
    while (!((await busyHandle.describe()).raw.pendingActivities ?? []).some((a) => a.activityType?.name === "runMicrotask" && a.state === STARTED)) await delay(25);

    const input: TaskInput = {
      taskId: uuidv7(),
      requestId: `req-${uuidv7()}`,
      actor,
      // Short enough to run in place (LOCAL_INFERENCE_MAX_TOKENS).
      microtasks: [{ id: "only", model: "alpha", input: { kind: "completion", prompt: "a" }, dependsOn: [], options: { maxTokens: 64, temperature: 1 } }],
    };
    // The dead worker's workflow task times out 2 s after it started instead of Temporal's default 10 s: before the
    // next worker polls (some 3 s after the kill), so a shorter timeout would gain nothing.
    const handle = await submitTask(client, input, { workflowTaskTimeoutMs: 2_000 });
    for (;;) {
      const events = (await handle.fetchHistory()).events ?? [];
      if (events.some((e) => e.workflowTaskStartedEventAttributes)) break;
      await delay(10);
    }
    const died = new Promise((resolve) => first.once("exit", resolve));
    first.kill("SIGKILL");
    await died;

    // The workflow task times out on the dead worker and runs again, from the start, on the next one.
    await startWorkerProcess("in-place-host");
    const result = await handle.result();
    expect(result).toMatchObject({ status: "succeeded", microtasks: [{ id: "only", status: "succeeded", model: "alpha" }] });
    expect(await busyHandle.result()).toMatchObject({ status: "succeeded" });
    const events = (await handle.fetchHistory()).events ?? [];
    // The first workflow task was cut short (the kill landed inside it), and no inference went through the server.
    expect(events.map((e) => e.eventType)).toContain(WORKFLOW_TASK_TIMED_OUT);
    expect(events.filter((e) => e.activityTaskScheduledEventAttributes)).toEqual([]);

    const rows = await query("SELECT status, id::text FROM executions WHERE request_id = $1 AND id <> $2", [input.requestId, input.taskId]);
    // One record of the microtask, the one the result names: the killed try recorded nothing, or its rerun found it.
    expect(rows).toEqual([{ status: "succeeded", id: result.microtasks[0]!.executionId }]);
  });
});
