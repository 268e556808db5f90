import { mkdtempSync } from "node:fs";
import { createServer, type Server } from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeLeaf, type AuditEvent } from "../../src/audit/core/entry.js";
import { EgressSelfTestError } from "../../src/bootstrap/egress.js";
import { startGateway } from "../../src/bootstrap/gateway.js";
import { ConfigSchema } from "../../src/config/schema.js";
import { createLogger } from "../../src/observability/logger.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { writeTestModels } from "../support/models.js";

/** Stands in for "the outside world answered": a loopback listener the probe can reach. */
let outside: Server;
let outsidePort: number;
const databases: TestDatabase[] = [];

beforeAll(async () => {
  outside = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => outside.listen(0, "127.0.0.1", resolve));
  outsidePort = (outside.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((resolve) => outside.close(() => resolve()));
  for (const database of databases) await database.drop();
});

async function configured(mode: "strict" | "warn", targets: string[]) {
  const database = await createTestDatabase();
  databases.push(database);
  const config = ConfigSchema.parse({
    server: { port: 0 },
    dataDir: mkdtempSync(join(tmpdir(), "atomic-egress-")),
    database: { url: database.url },
    models: { manifest: writeTestModels([{ id: "tiny" }]).manifestPath, family: "", testModelWhenEmpty: false },
    inference: { threads: 1, gpu: "cpu" },
    egress: { selfTest: { mode, targets, timeoutMs: 500 } },
    temporal: { enabled: false },
    log: { level: "silent" },
  });
  return { config, database };
}

async function selfTestEvents(url: string): Promise<AuditEvent[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // The refused start never sequenced its queue: read events from both places.
    const queued = await client.query<{ event: string }>("SELECT event FROM audit_queue");
    const logged = await client.query<{ leaf: Buffer }>("SELECT leaf FROM audit_log");
    const events = [...queued.rows.map((row) => JSON.parse(row.event) as AuditEvent), ...logged.rows.map((row) => decodeLeaf(row.leaf).event)];
    return events.filter((event) => event.kind === "startup.selftest");
  } finally {
    await client.end();
  }
}

describe("the egress self-test at start", () => {
  it("refuses to start in strict mode when a probe gets out, and records why", async () => {
    const { config, database } = await configured("strict", ["127.0.0.1:1", `127.0.0.1:${outsidePort}`]);
    await expect(startGateway(config, createLogger({ level: "silent" }))).rejects.toThrow(EgressSelfTestError);

    const [event] = await selfTestEvents(database.url);
    expect(event).toMatchObject({ outcome: { status: "refused", code: "egress_possible" }, detail: { check: "egress", egressPossible: true } });
    expect((event!.detail!["probes"] as Array<{ target: string; reached: boolean }>).map((p) => [p.target, p.reached])).toEqual([
      ["127.0.0.1:1", false],
      [`127.0.0.1:${outsidePort}`, true],
    ]);
  });

  it("starts in warn mode on the same network, recording that egress is possible", async () => {
    const { config, database } = await configured("warn", [`127.0.0.1:${outsidePort}`]);
    const gateway = await startGateway(config, createLogger({ level: "silent" }));
    await gateway.close();
    const [event] = await selfTestEvents(database.url);
    expect(event).toMatchObject({ outcome: { status: "succeeded" }, detail: { egressPossible: true, mode: "warn" } });
  });

  it("starts in strict mode when no probe gets out", async () => {
    const { config, database } = await configured("strict", ["127.0.0.1:1"]);
    const gateway = await startGateway(config, createLogger({ level: "silent" }));
    await gateway.close();
    const [event] = await selfTestEvents(database.url);
    expect(event).toMatchObject({ outcome: { status: "succeeded" }, detail: { egressPossible: false } });
  });
});
