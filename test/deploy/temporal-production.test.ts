/**
 * The production Temporal topology of deploy/temporal, for real: the server built from go.temporal.io/server,
 * PostgreSQL persistence, brought up by up.mjs on loopback, running Atomic's task workflow with Atomic's worker.
 * Slow (a build on first run, a server per scenario), so it runs apart from `npm test`:
 *
 *   npx vitest run -c vitest.deploy.config.ts
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { Client, Connection } from "@temporalio/client";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { askToCancel, getTaskStatus, submitTask } from "../../src/orchestration/client.js";
import type { Microtask, TaskInput, TaskResult } from "../../src/orchestration/types.js";
import { startAtomicWorker, type RunningAtomicWorker } from "../../src/orchestration/worker.js";
import { taskProgressQuery } from "../../src/orchestration/workflows/task.js";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "../../src/store/embedded/embedded-postgres.js";
import { uuidv7 } from "../../src/util/uuidv7.js";
import { withDatabase } from "../support/database.js";
import { LISTEN, socketsOf } from "../support/listening.js";
import { writeTestModels, type TestModels } from "../support/models.js";
import { openTestPipeline, testLogger, type TestPipeline } from "../support/temporal-env.js";
import { startTcpPostgres, type TcpPostgres } from "./tcp-postgres.js";
import { BUILD_SCRIPT, freePortBlock, listening, ROOT, UpProcess } from "./up-process.js";

const WORKFLOWS = join(ROOT, "src", "orchestration", "workflows", "index.ts");
const RUNNING = 1; // WORKFLOW_EXECUTION_STATUS_RUNNING
const COMPLETED = 2;

let binDir: string;
let site: TcpPostgres;
let models: TestModels;
let pipeline: TestPipeline;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  // Builds the server on the first run (minutes; Go and the module proxy needed), else only finds it.
  binDir = execFileSync(process.execPath, [BUILD_SCRIPT], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
  site = await startTcpPostgres();
  cleanups.push(() => site.stop());
  // Atomic's own records (executions) in a database of their own on the same server, as a site would have them.
  await sql(site.url, "CREATE DATABASE atomic");
  models = writeTestModels([{ id: "alpha" }]);
  pipeline = await openTestPipeline({ databaseUrl: site.urlFor("atomic"), manifestPath: models.manifestPath });
  cleanups.push(() => pipeline.close());
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => console.error("cleanup failed:", error));
  rmSync(models?.dir ?? "/nonexistent", { recursive: true, force: true });
});

async function sql<Row extends pg.QueryResultRow = pg.QueryResultRow>(url: string, text: string, params: unknown[] = []): Promise<Row[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<Row>(text, params)).rows;
  } finally {
    await client.end();
  }
}

function task(maxTokens: number): TaskInput {
  const microtask: Microtask = { id: "m", model: "alpha", input: { kind: "completion", prompt: "hello" }, dependsOn: [], options: { maxTokens, temperature: 1 } };
  return { taskId: uuidv7(), requestId: `req-${uuidv7()}`, actor: { subject: "deploy-test", tenant: "default", tokenIdHash: "t" }, microtasks: [microtask] };
}

async function startWorker(address: string, hostId: string): Promise<RunningAtomicWorker> {
  return startAtomicWorker({
    address,
    hostId,
    logger: testLogger(),
    control: { executions: pipeline.stores.executions, contentHasher: pipeline.pipeline.contentHasher },
    inference: { pipeline: pipeline.pipeline, models: pipeline.catalog },
    workflows: { workflowsPath: WORKFLOWS },
  });
}

async function connect(address: string): Promise<{ client: Client; close: () => Promise<void> }> {
  const connection = await Connection.connect({ address });
  return { client: new Client({ connection }), close: () => connection.close() };
}

/** What Temporal's own tables hold for a workflow: its current run, that run's row and its history nodes. */
async function storedWorkflow(temporalDbUrl: string, workflowId: string) {
  const [current] = await sql<{ run_id: string; status: number; namespace: string }>(
    temporalDbUrl,
    `SELECT encode(c.run_id, 'hex') AS run_id, c.status, n.name AS namespace
       FROM current_executions c JOIN namespaces n ON n.id = c.namespace_id WHERE c.workflow_id = $1`,
    [workflowId],
  );
  if (!current) return undefined;
  const [counts] = await sql<{ executions: string; history_nodes: string; history_bytes: string }>(
    temporalDbUrl,
    `SELECT (SELECT count(*) FROM executions WHERE workflow_id = $1 AND run_id = decode($2, 'hex')) AS executions,
            (SELECT count(*) FROM history_node WHERE tree_id = decode($2, 'hex')) AS history_nodes,
            (SELECT coalesce(sum(length(data)), 0) FROM history_node WHERE tree_id = decode($2, 'hex')) AS history_bytes`,
    [workflowId, current.run_id],
  );
  return { ...current, executions: Number(counts!.executions), historyNodes: Number(counts!.history_nodes), historyBytes: Number(counts!.history_bytes) };
}

const LOOPBACK = "0100007F"; // 127.0.0.1

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("production Temporal on the site's PostgreSQL (TCP, password, postgres12)", () => {
  let portBase: number;
  let workDir: string;
  let up: UpProcess;
  let address: string;
  let temporalDb: string;
  let worker: RunningAtomicWorker | undefined;
  let client: Client;
  let closeClient: () => Promise<void>;
  let finished: { input: TaskInput; result: TaskResult };

  // The password travels in the environment, not on up.mjs's command line.
  const upArgs = () => ["--postgres-url", `postgresql://${site.user}@127.0.0.1:${site.port}/postgres`, "--dir", workDir, "--bin-dir", binDir, "--port-base", String(portBase), "--log-level", "warn"];
  const upEnv = () => ({ ATOMIC_TEMPORAL_PG_PASSWORD: site.password });

  beforeAll(async () => {
    portBase = await freePortBlock();
    workDir = mkdtempSync(join(tmpdir(), "atomic-temporal-prod-"));
    temporalDb = site.urlFor("temporal");
    up = UpProcess.start(upArgs(), upEnv());
    cleanups.push(async () => {
      await up.stop();
      rmSync(workDir, { recursive: true, force: true });
    });
    const ready = await up.waitFor("ready");
    address = ready.address;
    ({ client, close: closeClient } = await connect(address));
    cleanups.push(() => closeClient());
    worker = await startWorker(address, "prod-host");
    cleanups.push(async () => worker?.shutdown());
  });

  it("creates both databases with Temporal's schemas and the default namespace, and listens on loopback only", async () => {
    const versions = await sql<{ db: string; version: string }>(temporalDb, "SELECT db_name AS db, curr_version AS version FROM schema_version");
    expect(versions).toEqual([{ db: "temporal", version: expect.stringMatching(/^1\.\d+$/) }]);
    expect(Number(versions[0]!.version.split(".")[1])).toBeGreaterThan(0);
    const visibility = await sql<{ version: string }>(site.urlFor("temporal_visibility"), "SELECT curr_version AS version FROM schema_version");
    expect(visibility).toEqual([{ version: expect.stringMatching(/^1\.\d+$/) }]);
    expect(await sql(temporalDb, "SELECT name FROM namespaces WHERE name = 'default'")).toEqual([{ name: "default" }]);

    const ready = await up.waitFor("ready");
    expect(address).toBe(`127.0.0.1:${portBase}`);
    if (process.platform === "linux") {
      const sockets = socketsOf(ready.pid);
      // frontend, history, matching, worker, four membership ports, metrics: all on 127.0.0.1
      expect(sockets.filter((s) => s.state === LISTEN).map((s) => s.address)).toEqual(Array(9).fill(LOOPBACK));
      // Every connection it has open, to PostgreSQL and among its own services, is on loopback too.
      const connected = sockets.filter((s) => s.state !== LISTEN);
      expect(connected.length).toBeGreaterThan(0);
      expect(new Set(connected.flatMap((s) => [s.address, s.remote]))).toEqual(new Set([LOOPBACK]));
    }
  });

  it("runs a task workflow through it, its history stored in PostgreSQL", async () => {
    const input = task(8);
    const result = await (await submitTask(client, input)).result();
    expect(result.status).toBe("succeeded");
    expect(result.microtasks.map((m) => [m.id, m.status, m.model])).toEqual([["m", "succeeded", "alpha"]]);
    finished = { input, result };

    const stored = await storedWorkflow(temporalDb, input.taskId);
    const events = (await client.workflow.getHandle(input.taskId).fetchHistory()).events ?? [];
    expect(stored).toMatchObject({ namespace: "default", status: COMPLETED, executions: 1 });
    expect(stored!.historyNodes).toBeGreaterThan(1);
    // The events the frontend served came out of those rows: they hold at least the result's text.
    expect(stored!.historyBytes).toBeGreaterThan(result.microtasks[0]!.text!.length);
    expect(events.length).toBeGreaterThan(stored!.historyNodes);
    const visible = await sql(site.urlFor("temporal_visibility"), "SELECT workflow_type_name, status FROM executions_visibility WHERE workflow_id = $1", [input.taskId]);
    expect(visible).toEqual([{ workflow_type_name: "taskWorkflow", status: COMPLETED }]);
    // And Atomic's own record of the task, in its own database.
    expect(await pipeline.stores.executions.get("default", input.taskId)).toMatchObject({ status: "succeeded", endpoint: "tasks" });
  });

  it("answers a cancel through the task's workflow (an update): one of two racing cancels takes effect, and it ends cancelled", async () => {
    const input = task(20_000);
    const handle = await submitTask(client, input);
    // Under way: its microtask is running on the worker.
    while ((await handle.query(taskProgressQuery)).microtasks[0]?.state !== "running") await delay(50);
    const answers = await Promise.all([askToCancel(handle), askToCancel(handle)]);
    expect(answers.sort()).toEqual(["already_cancelling", "cancelling"]);
    await expect(handle.result()).rejects.toThrow();
    expect(await getTaskStatus(client, input.taskId)).toMatchObject({ state: "cancelled" });
    expect(await pipeline.stores.executions.get("default", input.taskId)).toBeNull();
  });

  it("keeps a workflow started before a restart of the whole topology, and completes it after", async () => {
    // No worker: the task is accepted and waits, durably, for one.
    await worker!.shutdown();
    worker = undefined;
    const pending = task(8);
    await submitTask(client, pending);
    await closeClient();

    const serverPid = (await up.waitFor("ready")).pid;
    expect(await up.stop()).toEqual({ code: 0, signal: null });
    expect(up.events.at(-1)).toEqual({ event: "stopped" });
    expect(alive(serverPid)).toBe(false);
    expect(await listening(portBase)).toBe(false);

    // With no Temporal process at all, the pending workflow is rows in PostgreSQL.
    const whileDown = await storedWorkflow(temporalDb, pending.taskId);
    expect(whileDown).toMatchObject({ status: RUNNING, executions: 1 });
    expect(whileDown!.historyNodes).toBeGreaterThan(0);

    // Second start: the setup finds everything in place, the namespace is there already.
    up = UpProcess.start(upArgs(), upEnv());
    const ready = await up.waitFor("ready");
    expect(ready.pid).not.toBe(serverPid);
    expect(up.output()).not.toMatch(/registered namespace/);
    ({ client, close: closeClient } = await connect(address));
    worker = await startWorker(address, "prod-host");

    const result = await client.workflow.getHandle<(input: TaskInput) => Promise<TaskResult>>(pending.taskId).result();
    expect(result.status).toBe("succeeded");
    expect(await storedWorkflow(temporalDb, pending.taskId)).toMatchObject({ status: COMPLETED });
    // The task finished before the restart is still there, result and all.
    expect(await client.workflow.getHandle(finished.input.taskId).result()).toEqual(finished.result);
  });

  it("restarts a server killed with SIGKILL, and the task it was running finishes", async () => {
    const before = await up.waitFor("ready");
    const running = await submitTask(client, task(1500));
    while ((await running.query(taskProgressQuery)).microtasks[0]!.state !== "running") await delay(20);
    process.kill(before.pid, "SIGKILL");

    const exited = await up.waitFor("exited", before.index);
    expect(exited).toMatchObject({ pid: before.pid, signal: "SIGKILL" });
    const after = await up.waitFor("ready", exited.index);
    expect(after).toMatchObject({ incarnation: before.incarnation + 1 });
    expect(after.pid).not.toBe(before.pid);

    const result = await running.result();
    expect(result.status).toBe("succeeded");
    expect(await storedWorkflow(temporalDb, running.workflowId)).toMatchObject({ status: COMPLETED, executions: 1 });
  });
});

describe("databases a DBA created", () => {
  it("are set up for a role that may not create databases", async () => {
    // A site whose DBA hands Temporal two empty databases and a role without CREATEDB.
    await sql(site.url, "CREATE ROLE temporal_limited LOGIN PASSWORD 'limited-secret' NOCREATEDB");
    await sql(site.url, "CREATE DATABASE temporal_dba OWNER temporal_limited");
    await sql(site.url, "CREATE DATABASE temporal_dba_visibility OWNER temporal_limited");
    const up = UpProcess.start(
      ["--postgres-url", `postgresql://temporal_limited@127.0.0.1:${site.port}/postgres`, "--setup-only", "--bin-dir", binDir,
        "--database", "temporal_dba", "--visibility-database", "temporal_dba_visibility"],
      { ATOMIC_TEMPORAL_PG_PASSWORD: "limited-secret" },
    );
    expect(await up.exit, up.output()).toEqual({ code: 0, signal: null });
    expect(up.output()).toMatch(/may not create databases/);
    expect(await sql(site.urlFor("temporal_dba"), "SELECT db_name FROM schema_version")).toEqual([{ db_name: "temporal_dba" }]);
    expect(await sql(site.urlFor("temporal_dba_visibility"), "SELECT count(*)::int AS n FROM executions_visibility")).toEqual([{ n: 0 }]);
  });

  it("refuses a wrong password with the reason", async () => {
    const up = UpProcess.start(["--postgres-url", `postgresql://temporal_limited:wrong@127.0.0.1:${site.port}/postgres`, "--setup-only", "--bin-dir", binDir]);
    expect(await up.exit).toEqual({ code: 1, signal: null });
    expect(up.output()).toMatch(/create-database temporal failed[\s\S]*password authentication failed for user \\?"temporal_limited/);
  });
});

describe("production Temporal on Atomic's embedded PostgreSQL (unix socket, postgres12_pgx)", () => {
  let embedded: EmbeddedPostgres;
  let embeddedDir: string;

  beforeAll(async () => {
    embeddedDir = mkdtempSync(join(tmpdir(), "atomic-deploy-embedded-pg-"));
    embedded = await startEmbeddedPostgres({ dataDir: embeddedDir });
    cleanups.push(async () => {
      await embedded.stop();
      rmSync(embeddedDir, { recursive: true, force: true });
    });
  });

  it("brings the topology up over the socket and runs a task through it", async () => {
    const workDir = mkdtempSync(join(tmpdir(), "atomic-temporal-socket-"));
    const portBase = await freePortBlock();
    // The embedded server's own URL, as `atomic serve` has it: postgresql://atomic@/atomic?host=/dir&port=5432.
    const up = UpProcess.start(["--postgres-url", embedded.connectionString, "--dir", workDir, "--bin-dir", binDir, "--port-base", String(portBase), "--log-level", "warn"]);
    cleanups.push(async () => {
      await up.stop();
      rmSync(workDir, { recursive: true, force: true });
    });
    const { address } = await up.waitFor("ready");
    const worker = await startWorker(address, "socket-host");
    const { client, close } = await connect(address);
    try {
      const input = task(8);
      const result = await (await submitTask(client, input)).result();
      expect(result.status).toBe("succeeded");
      expect(await storedWorkflow(withDatabase(embedded.connectionString, "temporal"), input.taskId)).toMatchObject({ namespace: "default", status: COMPLETED, executions: 1 });
    } finally {
      await close();
      await worker.shutdown();
    }
    expect(await up.stop()).toEqual({ code: 0, signal: null });
  });
});
