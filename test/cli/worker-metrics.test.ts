import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import "../support/provided-context.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { writeTestModels } from "../support/models.js";
import { sharedTemporal } from "../support/temporal.js";

/**
 * `atomic worker` counts what it runs and serves it on metrics.listener: a worker has no API listener, and the
 * executions, model hosts and queues of a separate worker were counted nowhere.
 */
let database: TestDatabase;
let worker: ChildProcess | undefined;
let stderr = "";

beforeAll(async () => {
  database = await createTestDatabase();
  const dir = mkdtempSync(join(tmpdir(), "atomic-worker-metrics-"));
  const models = writeTestModels([{ id: "tiny" }]);
  mkdirSync(join(dir, "data"));
  writeFileSync(join(dir, "atomic.config.json"), JSON.stringify({
    dataDir: join(dir, "data"),
    database: { url: database.url },
    models: { manifest: models.manifestPath },
    inference: { threads: 1, gpu: "cpu" },
    metrics: { listener: { port: 0 } },
  }));
  const { address, namespace } = sharedTemporal("atomic-test-worker-cli");
  worker = spawn(process.execPath, [inject("atomicCli"), "worker", "--temporal", address, "--namespace", namespace, "--host-id", "metrics-cli"], {
    cwd: dir, env: { ...process.env, DATABASE_URL: database.url }, stdio: ["ignore", "ignore", "pipe"],
  });
  worker.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
}, 60_000);

afterAll(async () => {
  if (worker !== undefined && worker.exitCode === null) {
    const exited = new Promise((done) => worker!.once("exit", done));
    worker.kill("SIGTERM");
    await exited;
  }
  await database?.drop();
});

async function metricsUrl(): Promise<string> {
  for (let waited = 0; waited < 45_000; waited += 100) {
    const found = /metrics at (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(stderr)?.[1];
    if (found !== undefined) return found;
    if (worker?.exitCode !== null) throw new Error(`atomic worker exited (${worker?.exitCode}): ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`atomic worker never said where its metrics are: ${stderr}`);
}

describe("atomic worker's metrics", () => {
  it("serves /metrics on its loopback listener, with its model hosts, and stops on SIGTERM", async () => {
    const url = await metricsUrl();
    const scrape = await fetch(url);
    expect(scrape.status).toBe(200);
    expect(scrape.headers.get("content-type")).toContain("text/plain");
    const text = await scrape.text();
    expect(text).toMatch(/^atomic_model_state\{[^}]*model="tiny"[^}]*\} /m);
    expect(text).toMatch(/^atomic_model_queue_depth\{[^}]*model="tiny"[^}]*\} 0$/m);

    const exited = new Promise<number | null>((done) => worker!.once("exit", (code) => done(code)));
    worker!.kill("SIGTERM");
    expect(await exited).toBe(0);
    await expect(fetch(url)).rejects.toThrow();
  }, 60_000);
});
