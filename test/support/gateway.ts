import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { startGateway, type RunningGateway } from "../../src/bootstrap/gateway.js";
import { ConfigSchema, type ConfigInput } from "../../src/config/schema.js";
import { createLogger } from "../../src/observability/logger.js";
import { createTestDatabase } from "./database.js";
import type { TestModels } from "./models.js";

export interface TestGateway {
  url: string;
  /** Where the gateway keeps its keys (the audit public key is keys/audit-signing.pub.jwk). */
  dataDir: string;
  gateway: RunningGateway;
  /** Every log line the gateway wrote, parsed. */
  logs: Array<Record<string, unknown>>;
  databaseUrl: string;
  close(): Promise<void>;
}

export interface TestGatewayOptions {
  models: TestModels;
  inference?: ConfigInput["inference"];
}

/**
 * A real gateway on a loopback port: its own migrated database, real llama.cpp model hosts (one thread each, so
 * two test workers fit two cores), logs captured for assertions.
 */
export async function startTestGateway(options: TestGatewayOptions): Promise<TestGateway> {
  const database = await createTestDatabase();
  const logs: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString("utf8").split("\n")) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  const dataDir = mkdtempSync(join(tmpdir(), "atomic-data-"));
  const config = ConfigSchema.parse({
    server: { host: "127.0.0.1", port: 0 },
    dataDir,
    database: { url: database.url },
    models: { manifest: options.models.manifestPath, testModelWhenEmpty: false },
    inference: { threads: 1, gpu: "cpu", ...options.inference },
    // A short sequencer interval keeps tests that wait for receipts quick.
    audit: { intervalMs: 10 },
    log: { level: "info" },
  });
  const gateway = await startGateway(config, createLogger({ level: "info", destination }));
  return {
    url: gateway.url,
    dataDir,
    gateway,
    logs,
    databaseUrl: database.url,
    close: async () => {
      await gateway.close();
      await database.drop();
    },
  };
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
}
