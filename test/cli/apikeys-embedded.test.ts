import { execFile } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { setTimeout as delay } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import "../support/provided-context.js";
import { startGateway, type RunningGateway } from "../../src/bootstrap/gateway.js";
import { ADMIN_KEY_FILE } from "../../src/bootstrap/identity.js";
import { ConfigSchema } from "../../src/config/schema.js";
import { createLogger } from "../../src/observability/logger.js";
import { runningServerConnection } from "../../src/store/embedded/running-server.js";
import { auditEvents } from "../support/audit-events.js";
import { writeTestModels } from "../support/models.js";

const KEY_CACHE_MS = 1000;
const SERVICE_REFRESH_MS = 200;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `atomic` in its own process, as an operator runs it beside the gateway: no DATABASE_URL, the same data directory. */
function atomic(cwd: string, args: string[]): Promise<Run> {
  const env = { ...process.env };
  delete env["DATABASE_URL"];
  return new Promise((done) => {
    execFile(process.execPath, [inject("atomicCli"), ...args], { env, cwd }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

let dir: string;
let gateway: RunningGateway;
let adminKey: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "atomic-cli-embedded-"));
  // Run as root, the embedded PostgreSQL runs as postgres, which must pass through to the data directory.
  chmodSync(dir, 0o755);
  const models = writeTestModels([{ id: "tiny" }]);
  const settings = {
    dataDir: join(dir, ".atomic"),
    models: { manifest: models.manifestPath, family: "", testModelWhenEmpty: false, serviceStateRefreshMs: SERVICE_REFRESH_MS },
    auth: { apiKeyCacheMs: KEY_CACHE_MS },
  };
  writeFileSync(join(dir, "atomic.config.json"), JSON.stringify(settings));
  const config = ConfigSchema.parse({
    ...settings,
    server: { host: "127.0.0.1", port: 0 },
    inference: { threads: 1, gpu: "cpu" },
    audit: { intervalMs: 10 },
    egress: { selfTest: { targets: ["127.0.0.1:1"], timeoutMs: 500 } },
    temporal: { enabled: false },
  });
  const silent = new Writable({ write: (_chunk, _encoding, callback) => callback() });
  // No database.url: the gateway starts and holds the embedded PostgreSQL, as `atomic serve` does by default.
  gateway = await startGateway(config, createLogger({ level: "warn", destination: silent }));
  adminKey = readFileSync(join(dir, ".atomic", ADMIN_KEY_FILE), "utf8").trim();
});

afterAll(async () => {
  await gateway?.close();
  rmSync(dir, { recursive: true, force: true });
});

const models = (key: string) => fetch(`${gateway.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });

describe("atomic apikeys, bidding train and models unload/load while the gateway runs on the embedded PostgreSQL", () => {
  it("issues, lists and revokes through the gateway's own server, which keeps serving", async () => {
    const created = await atomic(dir, ["apikeys", "create", "--tenant", "ward-7", "--scopes", "infer", "--description", "from the console"]);
    expect(created.code, created.stderr).toBe(0);
    const key = created.stdout.trim();
    const id = /^atk_([0-9a-f]{16})_/.exec(key)![1]!;
    expect((await models(key)).status).toBe(200);

    const listed = await atomic(dir, ["apikeys", "list"]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(`${id}\tward-7\tinfer\tactive`);
    expect(listed.stdout).toMatch(/\tdefault\tadmin,audit:read,audit:export,metrics:read,operator\tactive\t/);

    const revoked = await atomic(dir, ["apikeys", "revoke", id]);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout.trim()).toBe(`revoked ${id}`);
    expect((await atomic(dir, ["apikeys", "revoke", id])).stdout.trim()).toBe(`${id} was already revoked`);
    // Another process revoked it: this gateway notices once its cached lookup expires.
    const deadline = performance.now() + KEY_CACHE_MS + 2000;
    let status = (await models(key)).status;
    while (status !== 401 && performance.now() < deadline) {
      await delay(100);
      status = (await models(key)).status;
    }
    expect(status).toBe(401);

    // The commands left the gateway's server running: it still answers, and its log holds both changes.
    expect((await models(adminKey)).status).toBe(200);
    await gateway.audit.sequencer.drain();
    const url = (await runningServerConnection(join(dir, ".atomic", "postgres")))!;
    const events = (await auditEvents(url)).filter((event) => event.detail?.["keyId"] === id);
    expect(events.map((event) => event.kind)).toEqual(["apikey.created", "apikey.revoked"]);
  });

  it("trains the bidding learner through the gateway's own server, audited there", async () => {
    const table = join(dir, "outcomes.csv");
    writeFileSync(table, "task,model,prompt,success\nt1,tiny,What is the capital of France?,1\nt2,tiny,Prove the theorem,0\n");
    const run = await atomic(dir, ["bidding", "train", table]);
    expect(run.code, run.stderr).toBe(0);
    expect((await models(adminKey)).status).toBe(200);
    await gateway.audit.sequencer.drain();
    const url = (await runningServerConnection(join(dir, ".atomic", "postgres")))!;
    const trained = (await auditEvents(url)).filter((event) => event.kind === "bidding.changed");
    expect(trained).toEqual([expect.objectContaining({ detail: expect.objectContaining({ action: "train", source: "table", rows: 2 }) })]);
  });

  it("takes a model out of service and back from the console, followed by the running gateway, audited there", async () => {
    const complete = () => fetch(`${gateway.url}/v1/completions`, {
      method: "POST", headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" }, body: JSON.stringify({ model: "tiny", prompt: "go", max_tokens: 2 }),
    });
    const until = async (status: number) => {
      const deadline = performance.now() + SERVICE_REFRESH_MS + 10_000;
      let response = await complete();
      while (response.status !== status && performance.now() < deadline) {
        await delay(50);
        response = await complete();
      }
      return response;
    };
    expect((await complete()).status).toBe(200);
    const unloaded = await atomic(dir, ["models", "unload", "tiny"]);
    expect(unloaded.code, unloaded.stderr).toBe(0);
    expect(unloaded.stdout).toContain(`tiny unloaded: every gateway and atomic worker of this database follows within ${SERVICE_REFRESH_MS} ms`);
    const refused = await until(503);
    expect((await refused.json()).error.code).toBe("model_unloaded");
    expect((await atomic(dir, ["models", "unload", "tiny"])).stdout.trim()).toBe("tiny is unloaded already");
    const unknown = await atomic(dir, ["models", "unload", "nope"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("no model nope is pinned");

    const loaded = await atomic(dir, ["models", "load", "tiny"]);
    expect(loaded.code, loaded.stderr).toBe(0);
    expect((await until(200)).status).toBe(200);
    await gateway.audit.sequencer.drain();
    const url = (await runningServerConnection(join(dir, ".atomic", "postgres")))!;
    const changes = (await auditEvents(url)).filter((event) => event.kind === "models.unloaded" || event.kind === "models.loaded");
    expect(changes.map((event) => event.kind)).toEqual(["models.unloaded", "models.loaded"]);
    for (const event of changes) expect(event.actor?.subject).toMatch(/^cli:/);
  });

  it("refuses keys rotate in one line while the gateway holds the database, rotating nothing", async () => {
    const keyDir = join(dir, ".atomic", "keys");
    const before = readFileSync(join(keyDir, readdirSync(keyDir).find((name) => name.endsWith(".jwk"))!), "utf8");
    const run = await atomic(dir, ["keys", "rotate"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^atomic: the embedded PostgreSQL data directory .* is locked by pid \d+ .*the Atomic process that started it \(pid \d+\) is still running/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(readFileSync(join(keyDir, readdirSync(keyDir).find((name) => name.endsWith(".jwk"))!), "utf8")).toBe(before);
  });

  it("says in one line why a server it cannot join is out of reach", async () => {
    const other = join(dir, "starting");
    mkdirSync(join(other, ".atomic", "postgres"), { recursive: true });
    writeFileSync(join(other, "atomic.config.json"), JSON.stringify({ dataDir: join(other, ".atomic") }));
    // A live pid whose server has not said it is ready yet.
    writeFileSync(join(other, ".atomic", "postgres", "postmaster.pid"), `${process.pid}\n${join(other, ".atomic", "postgres")}\n0\n5432\n${other}\n\n0 0\nstarting\n`);
    const run = await atomic(other, ["apikeys", "list"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^atomic: the embedded PostgreSQL on .* \(pid \d+\) is starting; try again once it is ready\n$/);
  });
});
