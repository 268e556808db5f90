import { testWorkflows } from "../support/temporal.js";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@temporalio/client";
import { NativeConnection } from "@temporalio/worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { submitTask } from "../../src/orchestration/client.js";
import { startDevServer, type DevServerEvent, type TemporalDevServer } from "../../src/orchestration/dev-server.js";
import { locateTemporalBinary } from "../../src/orchestration/temporal-binary.js";
import type { Microtask, TaskInput } from "../../src/orchestration/types.js";
import { startAtomicWorker, type RunningAtomicWorker } from "../../src/orchestration/worker.js";
import { taskProgressQuery } from "../../src/orchestration/workflows/task.js";
import { uuidv7 } from "../../src/util/uuidv7.js";
import { httpGet, listeningSockets } from "../support/listening.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { writeTestModels } from "../support/models.js";
import { openTestPipeline, testLogger, type TestPipeline } from "../support/temporal-env.js";


// This file kills its server, so it runs one of its own rather than the shared one.
let server: TemporalDevServer;
const events: DevServerEvent[] = [];
let database: TestDatabase;
let pipeline: TestPipeline;
let worker: RunningAtomicWorker;
let connection: NativeConnection;
let client: Client;

beforeAll(async () => {
  server = await startDevServer({
    binary: locateTemporalBinary(),
    dataDir: mkdtempSync(join(tmpdir(), "atomic-temporal-")),
    logger: testLogger(),
    restartDelayMs: 100,
    onEvent: (event) => events.push(event),
  });
  const models = writeTestModels([{ id: "alpha" }]);
  database = await createTestDatabase();
  pipeline = await openTestPipeline({ databaseUrl: database.url, manifestPath: models.manifestPath });
  worker = await startAtomicWorker({
    address: server.address,
    hostId: "dev-server-host",
    logger: testLogger(),
    control: { executions: pipeline.stores.executions, contentHasher: pipeline.pipeline.contentHasher },
    inference: { pipeline: pipeline.pipeline, models: pipeline.catalog },
    workflows: testWorkflows(),
  });
  connection = await NativeConnection.connect({ address: server.address });
  client = new Client({ connection });
});

afterAll(async () => {
  await worker?.shutdown();
  await connection?.close();
  await server?.stop();
  await pipeline?.close();
  await database?.drop();
});

const task = (maxTokens: number): TaskInput => {
  const microtask: Microtask = { id: "m", model: "alpha", input: { kind: "completion", prompt: "hi" }, dependsOn: [], options: { maxTokens, temperature: 1 } };
  return { taskId: uuidv7(), requestId: `req-${uuidv7()}`, actor: { subject: "t", tenant: "default", tokenIdHash: "t" }, microtasks: [microtask] };
};

describe("temporal dev server", () => {
  it.runIf(process.platform === "linux")("listens on loopback only", () => {
    const addresses = listeningSockets(server.pid()!).map((socket) => socket.address);
    expect(addresses.length).toBeGreaterThan(0);
    // 0100007F is 127.0.0.1 as /proc/net/tcp writes it.
    expect(new Set(addresses)).toEqual(new Set(["0100007F"]));
  });

  it.runIf(process.platform === "linux")("serves no web UI by default (headless)", async () => {
    expect(server.uiUrl).toBeUndefined();
    const ports = listeningSockets(server.pid()!).map((s) => s.port);
    // Where the CLI puts the UI when neither --headless nor --ui-port is given.
    expect(ports).not.toContain(server.port + 1000);
    // None of its ports (gRPC, HTTP API, metrics, internal services) answers with a page.
    for (const port of ports) {
      const page = await httpGet("127.0.0.1", port, "/", 2_000).catch(() => undefined);
      expect(page?.type ?? "", `port ${port}`).not.toMatch(/text\/html/);
    }
  });

  it("is restarted after SIGKILL, keeps completed results, and resumes a running task", async () => {
    const done = task(4);
    const doneResult = await (await submitTask(client, done)).result();
    expect(doneResult.status).toBe("succeeded");

    // Kill the server while another task's inference runs.
    const running = await submitTask(client, task(400));
    while ((await running.query(taskProgressQuery)).microtasks[0]!.state !== "running") await new Promise((r) => setTimeout(r, 20));
    const pid = server.pid()!;
    process.kill(pid, "SIGKILL");
    while (server.restarts() === 0) await new Promise((r) => setTimeout(r, 20));
    await server.ready();
    expect(server.pid()).not.toBe(pid);
    expect(events).toEqual(expect.arrayContaining([
      expect.objectContaining({ kind: "exited", pid, signal: "SIGKILL" }),
      expect.objectContaining({ kind: "ready", incarnation: 2 }),
    ]));

    // The SQLite file kept the finished task's result, and the running one carries on to completion.
    const fresh = await NativeConnection.connect({ address: server.address });
    try {
      const after = new Client({ connection: fresh });
      expect(await after.workflow.getHandle(done.taskId).result()).toEqual(doneResult);
      const resumed = await after.workflow.getHandle(running.workflowId).result();
      expect(resumed).toMatchObject({ status: "succeeded" });
    } finally {
      await fresh.close();
    }
  });
});
