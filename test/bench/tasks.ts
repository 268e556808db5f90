/**
 * `npm run bench:tasks` (also part of `npm run bench`): what running a task through Temporal costs, against the
 * direct path, measured in one run on this machine, on each Temporal Atomic runs on:
 *   A. the dev server `atomic serve` starts and supervises itself when no Temporal is configured (SQLite);
 *   B. the production server (deploy/temporal: built from source by deploy/temporal/build-server.mjs on first use,
 *      minutes; PostgreSQL persistence on a throwaway cluster on 127.0.0.1), with temporal.address pointing at it.
 *      BENCH_TASKS_PRODUCTION=0 leaves it out.
 * One gateway each, its one worker in-process (task workflows and inference on its models, as `atomic serve` runs
 * it by default), and per server:
 *   1. One-microtask task, sequential: POST /v1/tasks (sync, the direct path) against POST /v1/tasks mode "async"
 *      followed by waiting for the workflow's result (Temporal's long poll, so no polling interval is measured).
 *   2. Throughput through the one worker: BENCH_TASKS_CONCURRENT async tasks submitted at once, until all are done.
 *   3. Temporal's own ceiling: as many empty workflows through the same server (temporal-ceiling.ts), the bound
 *      on tasks/s that no change in Atomic can lift on this machine.
 * Printed, never asserted.
 */
import { execFileSync } from "node:child_process";
import { Client, Connection } from "@temporalio/client";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { startGateway } from "../../src/bootstrap/gateway.js";
import { ADMIN_KEY_FILE } from "../../src/bootstrap/identity.js";
import { auditKeyPaths, loadSecretKey } from "../../src/audit/key-files.js";
import { ConfigSchema } from "../../src/config/schema.js";
import { EncryptionCodec } from "../../src/orchestration/payload-codec.js";
import { createLogger } from "../../src/observability/logger.js";
import { startTestDatabaseServer } from "../support/database-server.js";
import { writeTestModels } from "../support/models.js";
import { startTcpPostgres } from "../deploy/tcp-postgres.js";
import { BUILD_SCRIPT, freePortBlock, UpProcess } from "../deploy/up-process.js";
import { percentile, round } from "./stats.js";
import { temporalCeiling } from "./temporal-ceiling.js";

const SEQUENTIAL = Number(process.env.BENCH_TASKS_SEQUENTIAL ?? 100);
const CONCURRENT = Number(process.env.BENCH_TASKS_CONCURRENT ?? 200);
const PRODUCTION = process.env.BENCH_TASKS_PRODUCTION !== "0";
const TASK = { input: "Say hello.", model: "tiny", max_tokens: 4, seed: 1 };

async function main(): Promise<void> {
  console.log(`atomic tasks bench — ${cpus()[0]?.model ?? "cpu"} × ${availableParallelism()}, node ${process.version}`);
  const models = writeTestModels([{ id: "tiny" }]);
  console.log("\nA. the dev server (SQLite), started by the gateway");
  await measure(models.manifestPath, { devServerPort: 0 });
  if (PRODUCTION) {
    console.log("\nB. the production server (deploy/temporal) on PostgreSQL");
    await withProductionServer((address) => measure(models.manifestPath, { address }));
  }
}

/** One gateway on a database of its own (it writes its first admin key only into an empty one). */
async function measure(manifestPath: string, temporal: { devServerPort: 0 } | { address: string }): Promise<void> {
  const database = await startTestDatabaseServer();
  const databaseUrl = database.url;
  const dataDir = mkdtempSync(join(tmpdir(), "atomic-bench-tasks-"));
  const config = ConfigSchema.parse({
    server: { port: 0 },
    dataDir,
    database: { url: databaseUrl },
    models: { manifest: manifestPath, family: "", testModelWhenEmpty: false },
    // Room for the whole burst of phase 2 in the model's queue: measured, not refused.
    inference: { threads: 1, gpu: "cpu", maxQueue: 100_000, queueTimeoutMs: 600_000 },
    egress: { selfTest: { mode: "off" } },
    temporal,
    log: { level: "silent" },
  });
  const started = performance.now();
  const gateway = await startGateway(config, createLogger({ level: "silent" }));
  console.log(`   gateway and its worker up in ${round((performance.now() - started) / 1000, 1)} s`);
  const key = readFileSync(join(dataDir, ADMIN_KEY_FILE), "utf8").trim();
  const post = (body: unknown) =>
    fetch(`${gateway.url}/v1/tasks`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(body) });
  const connection = await Connection.connect({ address: gatewayTemporalAddress(gateway) });
  // The gateway's workers encrypt every payload; a client reading results needs the same codec and key.
  const payloadCodec = new EncryptionCodec(loadSecretKey(auditKeyPaths(config).payloadKey, "Temporal payload key"));
  const client = new Client({ connection, namespace: "default", dataConverter: { payloadCodecs: [payloadCodec] } });
  const asyncTask = async (): Promise<void> => {
    const response = await post({ ...TASK, mode: "async" });
    if (response.status !== 202) throw new Error(`async task: ${response.status} ${await response.text()}`);
    const { id } = (await response.json()) as { id: string };
    const result = (await client.workflow.getHandle(id).result()) as { status: string };
    if (result.status !== "succeeded") throw new Error(`task ${id}: ${JSON.stringify(result)}`);
  };
  const syncTask = async (): Promise<void> => {
    const response = await post(TASK);
    if (response.status !== 200) throw new Error(`sync task: ${response.status} ${await response.text()}`);
    await response.arrayBuffer();
  };
  try {
    // Warm both paths: model loaded, workflow code cached on the worker, connections open.
    for (let i = 0; i < 5; i++) {
      await syncTask();
      await asyncTask();
    }
    console.log(`   1. one-microtask task (${TASK.max_tokens} tokens on the tiny test model), ${SEQUENTIAL} sequential each`);
    const direct = await sample(SEQUENTIAL, syncTask);
    const viaTemporal = await sample(SEQUENTIAL, asyncTask);
    console.log(`      direct (sync POST)            p50 ${round(percentile(direct, 50))} ms   p99 ${round(percentile(direct, 99))} ms`);
    console.log(`      through Temporal (async)      p50 ${round(percentile(viaTemporal, 50))} ms   p99 ${round(percentile(viaTemporal, 99))} ms`);
    console.log(`      added by Temporal             p50 ${round(percentile(viaTemporal, 50) - percentile(direct, 50))} ms   p99 ${round(percentile(viaTemporal, 99) - percentile(direct, 99))} ms`);

    console.log(`   2. throughput: ${CONCURRENT} async tasks submitted at once, one worker (in the gateway process)`);
    const burstStarted = performance.now();
    await Promise.all(Array.from({ length: CONCURRENT }, () => asyncTask()));
    const burstMs = performance.now() - burstStarted;
    console.log(`      ${round(CONCURRENT / (burstMs / 1000), 1)} tasks/s (${CONCURRENT} in ${round(burstMs / 1000, 2)} s)`);
    const directStarted = performance.now();
    await Promise.all(Array.from({ length: CONCURRENT }, () => syncTask()));
    const directMs = performance.now() - directStarted;
    console.log(`      direct path, same load: ${round(CONCURRENT / (directMs / 1000), 1)} tasks/s`);

    const tasksPerSecond = CONCURRENT / (burstMs / 1000);
    const ceiling = await temporalCeiling(gatewayTemporalAddress(gateway), config.temporal.namespace, CONCURRENT);
    console.log(`   3. Temporal's own ceiling: ${CONCURRENT} empty workflows (no activity, one workflow task each) started at once, eager, one worker`);
    console.log(`      ${round(ceiling, 1)} workflows/s; Atomic's tasks ran at ${round((100 * tasksPerSecond) / ceiling, 1)} % of it   (target 100 tasks/s — ${tasksPerSecond >= 100 ? "met" : "NOT met"}${ceiling < 100 ? "; it is above what this server does with no work at all on this machine" : ""})`);
  } finally {
    await connection.close();
    await gateway.close();
    await database.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The production topology as test/deploy brings it up: the built server, on a throwaway PostgreSQL over TCP. */
async function withProductionServer(run: (address: string) => Promise<void>): Promise<void> {
  const binDir = execFileSync(process.execPath, [BUILD_SCRIPT], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
  const site = await startTcpPostgres();
  const workDir = mkdtempSync(join(tmpdir(), "atomic-bench-temporal-"));
  let up: UpProcess | undefined;
  try {
    const portBase = await freePortBlock();
    up = UpProcess.start(
      ["--postgres-url", `postgresql://${site.user}@127.0.0.1:${site.port}/postgres`, "--dir", workDir, "--bin-dir", binDir, "--port-base", String(portBase), "--log-level", "warn"],
      { ATOMIC_TEMPORAL_PG_PASSWORD: site.password },
    );
    const ready = await up.waitFor("ready");
    await run(ready.address);
  } finally {
    await up?.stop();
    await site.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}

function gatewayTemporalAddress(gateway: Awaited<ReturnType<typeof startGateway>>): string {
  if (gateway.temporalAddress === null) throw new Error("the gateway runs without orchestration");
  return gateway.temporalAddress;
}

async function sample(count: number, run: () => Promise<void>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await run();
    times.push(performance.now() - started);
  }
  return times;
}

await main();
