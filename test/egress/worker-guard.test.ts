import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { writeTestModels } from "../support/models.js";
import { compiledScript } from "../support/scripts.js";
import "../support/temporal.js";

const FIXTURE = compiledScript("test/egress/fixtures/guarded-worker.ts");

let database: TestDatabase;
let forbidden: http.Server;
let forbiddenPort: number;
let hits = 0;

beforeAll(async () => {
  database = await createTestDatabase();
  forbidden = http.createServer((_request, response) => response.end("ok"));
  forbidden.on("connection", () => void hits++);
  await new Promise<void>((resolve) => forbidden.listen(0, "127.0.0.1", resolve));
  forbiddenPort = (forbidden.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((resolve) => forbidden?.close(() => resolve()));
  await database?.drop();
});

function runWorker(attempts: string[], manifestPath = writeTestModels([{ id: "w", capabilities: ["chat", "completion"] }]).manifestPath, control?: string): Promise<{ code: number; outcomes: Record<string, string>; logs: Array<Record<string, unknown>> }> {
  const env = {
    ...process.env,
    ATOMIC_TEST_WORKER_EGRESS: JSON.stringify({
      databaseUrl: database.url,
      manifestPath,
      dataDir: mkdtempSync(join(tmpdir(), "atomic-worker-egress-")),
      temporal: inject("temporalAddress"),
      // Its own inference queue on the default namespace, which no other test uses: nothing is sent to it.
      hostId: `egress-${process.pid}`,
      attempts,
      ...(control === undefined ? {} : { control }),
    }),
  };
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [FIXTURE], { env, timeout: 90_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${error.message}\n${stderr}`));
      else resolve(JSON.parse(stdout.trim().split("\n").pop()!));
    });
  });
}

describe("atomic worker installs the egress guard", () => {
  it("refuses a destination off its allowlist from inside the worker process, logs and audits it, and keeps serving", async () => {
    const temporal = inject("temporalAddress");
    const result = await runWorker([`127.0.0.1:${forbiddenPort}`, `127.0.0.2:${forbiddenPort}`, temporal]);

    expect(result.outcomes).toEqual({
      [`127.0.0.1:${forbiddenPort}`]: "error EGRESS_DENIED",
      [`127.0.0.2:${forbiddenPort}`]: "error EGRESS_DENIED",
      // Its Temporal frontend is on the list.
      [temporal]: "connected",
    });
    expect(hits).toBe(0);
    // It ran until told to stop, and stopped cleanly.
    expect(result.code).toBe(0);
    const installed = result.logs.find((line) => line.msg === "egress guard installed");
    expect(installed?.allow).toEqual([temporal]);
    const refused = result.logs.filter((line) => line.msg === "outbound connection refused by the egress guard").map((line) => line.destination);
    expect(refused).toEqual([`127.0.0.1:${forbiddenPort}`, `127.0.0.2:${forbiddenPort}`]);

    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const queued = await client.query<{ event: string }>("SELECT event FROM audit_queue");
      const denied = queued.rows.map((row) => JSON.parse(row.event) as { kind: string; detail: { destination: string } }).filter((event) => event.kind === "egress.denied");
      expect(denied.map((event) => event.detail.destination).sort()).toEqual([`127.0.0.1:${forbiddenPort}`, `127.0.0.2:${forbiddenPort}`].sort());
    } finally {
      await client.end();
    }
  });
});

describe("atomic worker on a host with no model pinned yet", () => {
  it("runs the workflows and control activities instead of exiting, and says how to serve inference", async () => {
    // Its control worker polls a namespace no test starts workflows in: it takes nobody's work.
    const result = await runWorker([], writeTestModels([]).manifestPath, "atomic-test-idle");
    expect(result.code).toBe(0);
    expect(result.logs.find((line) => line.level === "warn" && String(line.msg).startsWith("no models pinned"))).toBeDefined();
    const running = result.logs.find((line) => line.msg === "temporal worker running");
    expect(running?.taskQueues).toEqual({ control: "atomic-orchestration" });
  });
});
