import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import "../support/provided-context.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { writeTestModels } from "../support/models.js";

/**
 * `atomic serve` exactly as an operator runs it — with its process-wide egress guard — on `temporal.devServerPort: 0`
 * (a free port for the dev server it starts): the guard must let the gateway through to the port the dev server
 * got, so that it starts and runs asynchronous tasks there.
 */

let database: TestDatabase;
let dataDir: string;
let serve: ChildProcess;
const logs: Array<Record<string, unknown>> = [];
let exited: Promise<number | null>;

function listening(): Promise<string> {
  return new Promise((resolveUrl, reject) => {
    const lines = createInterface({ input: serve.stdout! });
    lines.on("line", (line) => {
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      logs.push(parsed);
      if (parsed["msg"] === "gateway listening") resolveUrl(String(parsed["url"]));
    });
    void exited.then((code) => reject(new Error(`atomic serve exited with ${code} before listening:\n${JSON.stringify(logs.slice(-5), null, 1)}`)));
  });
}

let url: string;

beforeAll(async () => {
  database = await createTestDatabase();
  dataDir = mkdtempSync(join(tmpdir(), "atomic-devport-"));
  const models = writeTestModels([{ id: "tiny", capabilities: ["chat", "completion"] }]);
  const config = join(dataDir, "atomic.config.json");
  writeFileSync(config, JSON.stringify({
    server: { host: "127.0.0.1", port: 0 },
    dataDir,
    database: { url: database.url },
    models: { manifest: models.manifestPath, family: "", testModelWhenEmpty: false },
    inference: { threads: 1, gpu: "cpu" },
    audit: { intervalMs: 10 },
    temporal: { devServerPort: 0 },
  }));
  serve = spawn(process.execPath, [inject("atomicCli"), "--config", config, "serve"], { stdio: ["ignore", "pipe", "inherit"] });
  exited = new Promise((done) => serve.once("exit", (code) => done(code)));
  url = await listening();
}, 180_000);

afterAll(async () => {
  if (serve?.exitCode === null) {
    serve.kill("SIGKILL");
    await exited;
  }
  await database?.drop();
});

describe("temporal.devServerPort 0 under the egress guard", () => {
  it("starts, lets the gateway through to the dev server's port, runs an asynchronous task, and stops cleanly", async () => {
    const ready = logs.find((line) => line["msg"] === "orchestration ready");
    expect(ready).toMatchObject({ devServer: true, address: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
    expect(String(ready!["address"])).not.toBe("127.0.0.1:0");
    expect(logs.find((line) => line["msg"] === "egress guard: destination let through")?.["destination"]).toBe(ready!["address"]);

    const authorization = `Bearer ${readFileSync(join(dataDir, "admin-api-key"), "utf8").trim()}`;
    const submitted = await fetch(`${url}/v1/tasks`, {
      method: "POST",
      headers: { authorization, "content-type": "application/json" },
      body: JSON.stringify({ input: "Say hello.", mode: "async", max_tokens: 4 }),
    });
    expect(submitted.status, await submitted.clone().text()).toBe(202);
    const { id } = (await submitted.json()) as { id: string };
    let task: { status: string };
    const deadline = Date.now() + 60_000;
    do {
      await new Promise((wait) => setTimeout(wait, 200));
      task = (await (await fetch(`${url}/v1/tasks/${id}`, { headers: { authorization } })).json()) as { status: string };
    } while (task.status === "running" && Date.now() < deadline);
    expect(task.status).toBe("succeeded");
    expect(logs.filter((line) => line["msg"] === "outbound connection refused by the egress guard")).toEqual([]);

    serve.kill("SIGTERM");
    expect(await exited).toBe(0);
  }, 120_000);
});
