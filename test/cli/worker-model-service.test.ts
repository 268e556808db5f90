import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import "../support/provided-context.js";
import { loadManifest, saveManifest } from "../../src/models/manifest.js";
import { buildTestModel } from "../../src/models/test-model.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { writeTestModels, type TestModels } from "../support/models.js";
import { sharedTemporal } from "../support/temporal.js";

/**
 * An operator's unload and load, made on a gateway, applied by `atomic worker` to the models it hosts for
 * asynchronous tasks: the model's host stops and the worker no longer advertises it, so a task naming it finds no
 * host and fails saying so; loaded again, the worker hosts and advertises it, and tasks run there again. The
 * gateway runs no task worker of its own: every inference of a task runs on the spawned worker.
 */
let gw: TestGateway;
let models: TestModels;
let worker: ChildProcess | undefined;
let stderr = "";

beforeAll(async () => {
  const { address, namespace } = sharedTemporal("atomic-test-worker-models");
  models = writeTestModels([{ id: "tiny", capabilities: ["chat", "completion"] }]);
  gw = await startTestGateway({ models, temporal: { address, namespace, hostId: "models-gateway", worker: false }, serviceStateRefreshMs: 200 });
  const dir = mkdtempSync(join(tmpdir(), "atomic-worker-models-"));
  // The gateway's data directory: its content-hash and payload keys, which the worker's records and payloads need.
  writeFileSync(join(dir, "atomic.config.json"), JSON.stringify({
    dataDir: gw.dataDir,
    database: { url: gw.databaseUrl },
    models: { manifest: models.manifestPath, family: "", serviceStateRefreshMs: 200 },
    inference: { threads: 1, gpu: "cpu" },
    metrics: { listener: { port: 0 } },
  }));
  worker = spawn(process.execPath, [inject("atomicCli"), "worker", "--temporal", address, "--namespace", namespace, "--host-id", "models-cli"], {
    cwd: dir, env: { ...process.env, DATABASE_URL: gw.databaseUrl }, stdio: ["ignore", "ignore", "pipe"],
  });
  worker.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
}, 120_000);

afterAll(async () => {
  if (worker !== undefined && worker.exitCode === null) {
    const exited = new Promise((done) => worker!.once("exit", done));
    worker.kill("SIGTERM");
    await exited;
  }
  await gw?.close();
});

async function until<T>(probe: () => Promise<T | undefined>, what: string, ms = 60_000): Promise<T> {
  const deadline = performance.now() + ms;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (worker?.exitCode !== null) throw new Error(`atomic worker exited (${worker?.exitCode}): ${stderr}`);
    if (performance.now() > deadline) throw new Error(`not within ${ms} ms: ${what}\n${stderr}`);
    await delay(100);
  }
}

const metricsUrl = () => until(async () => /metrics at (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(stderr)?.[1], "the worker's metrics listener");
/** The worker's state of a model, as its metrics say. */
async function workerState(model = "tiny"): Promise<string | undefined> {
  const text = await (await fetch(await metricsUrl())).text();
  return new RegExp(`^atomic_model_state\\{[^}]*model="${model}"[^}]*state="(\\w+)"[^}]*\\} 1$`, "m").exec(text)?.[1];
}

type Task = { id: string; status: string; error?: { code: string; message: string }; microtasks?: Array<{ id: string; status: string; error?: { code: string; message: string } }> };

async function runTask(model = "tiny"): Promise<{ task: Task; raw: unknown }> {
  const submitted = await gw.post("/v1/tasks", { input: "Say hi", mode: "async", model, max_tokens: 4, seed: 1 });
  expect(submitted.status).toBe(202);
  const { id } = (await submitted.json()) as Task;
  const task = await until(async () => {
    const body = (await (await gw.fetch(`/v1/tasks/${id}`)).json()) as Task;
    return body.status === "running" || body.status === "queued" ? undefined : body;
  }, `task ${id} to finish`, 120_000);
  const execution = await (await gw.fetch(`/v1/executions/${id}`)).json();
  return { task, raw: execution };
}

describe("atomic worker and an operator's unload and load", () => {
  it("unloads the model it hosts when a gateway unloads it, and tasks naming it are refused; loaded, they run again", async () => {
    await until(async () => ((await workerState()) === "ready" ? true : undefined), "the worker's model to be ready");
    const before = await runTask();
    expect(before.task.status).toBe("succeeded");

    expect((await gw.post("/v1/admin/models/tiny/unload", {})).status).toBe(200);
    await until(async () => ((await workerState()) === "unloaded" ? true : undefined), "the worker to unload its model");
    // Refused at submission, as a synchronous request naming it is (before, accepted and failed with no host).
    const refused = await gw.post("/v1/tasks", { input: "Say hi", mode: "async", model: "tiny", max_tokens: 4, seed: 1 });
    expect(refused.status).toBe(503);
    expect((await refused.json()).error.code).toBe("model_unloaded");

    expect((await gw.post("/v1/admin/models/tiny/load", {})).status).toBe(200);
    await until(async () => ((await workerState()) === "ready" ? true : undefined), "the worker to host its model again");
    const after = await until(async () => {
      const run = await runTask();
      // The gateway's directory copy is at most a few seconds old: a task right after the load may still find none.
      return run.task.status === "succeeded" ? run : undefined;
    }, "a task to run on the worker again", 90_000);
    expect(after.task.status).toBe("succeeded");
  }, 300_000);

  it("hosts a model pinned in the manifest while it runs, and runs tasks on it", async () => {
    // Pinned only once the worker runs (it read the manifest at its start).
    await until(async () => ((await workerState()) === "ready" ? true : undefined), "the worker's first model to be ready");
    const bytes = buildTestModel({ seed: 9 });
    writeFileSync(join(models.dir, "later.gguf"), bytes);
    const manifest = loadManifest(models.manifestPath);
    saveManifest(models.manifestPath, {
      ...manifest,
      models: [...manifest.models, { ...manifest.models[0]!, id: "later", file: "later.gguf", sha256: createHash("sha256").update(bytes).digest("hex"), sizeBytes: bytes.length }],
    });
    await until(async () => ((await workerState("later")) === "ready" ? true : undefined), "the worker to host the new pin");
    const run = await until(async () => {
      const attempt = await runTask("later");
      // The gateway's copy of the host directory is at most a few seconds old.
      return attempt.task.status === "succeeded" ? attempt : undefined;
    }, "a task on the new pin to run on the worker", 90_000);
    expect(run.task.status).toBe("succeeded");
  }, 300_000);
});
