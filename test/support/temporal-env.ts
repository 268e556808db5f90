/**
 * Orchestration test helpers that run outside vitest too (the global setup, and worker processes the durability
 * test starts and kills): no vitest imports here.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { ContentHasher } from "../../src/audit/content-hasher.js";
import { LlamaEngine } from "../../src/inference/llama/engine.js";
import { loadCatalog, type CatalogModel } from "../../src/models/catalog.js";
import type { Logger } from "../../src/observability/logger.js";
import type { PipelineDeps } from "../../src/pipeline/generate.js";
import { ModelDirectory } from "../../src/pipeline/model-directory.js";
import { migrate } from "../../src/store/postgres/migrate.js";
import { openPostgresStores, type PostgresStores } from "../../src/store/postgres/index.js";

/**
 * Namespaces the shared dev server creates at start, one per test file that runs workers: each file's workflows,
 * control queue and host directory are its own, so files running in parallel never take each other's work.
 */
export const TEST_NAMESPACES = ["atomic-test-tasks", "atomic-test-durability", "atomic-test-gateway", "atomic-test-webhooks", "atomic-test-hosts", "atomic-test-idle", "atomic-test-metrics", "atomic-test-openapi", "atomic-test-tracing", "atomic-test-sdk-typescript", "atomic-test-sdk", "atomic-test-worker-cli", "atomic-test-worker-models", "atomic-test-live-pins", "atomic-test-local-inference", "atomic-test-task-adaptation", "atomic-test-webhook-isolation"] as const;
export type TestNamespace = (typeof TEST_NAMESPACES)[number];

/** The project-local Temporal CLI, installed by the project's own script if it is not there yet. */
export function installTemporal(): string {
  const root = join(import.meta.dirname, "..", "..");
  return execFileSync(process.execPath, [join(root, "scripts", "install-temporal.mjs")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
}

/** Quiet unless ATOMIC_TEST_LOG names a level (debug, info, ...). */
export function testLogger(): Logger {
  return pino({ level: process.env["ATOMIC_TEST_LOG"] ?? "silent" });
}

export interface TestPipeline {
  pipeline: PipelineDeps;
  engine: LlamaEngine;
  stores: PostgresStores;
  catalog: CatalogModel[];
  close(): Promise<void>;
}

/**
 * The gateway's generation pipeline over a real, migrated PostgreSQL database and real llama.cpp model hosts (one
 * thread each), as a worker process builds it.
 */
export async function openTestPipeline(options: { databaseUrl: string; manifestPath: string; contentHashKey?: Buffer; logger?: Logger }): Promise<TestPipeline> {
  const logger = options.logger ?? testLogger();
  const stores = await openPostgresStores(options.databaseUrl, { max: 4 });
  await migrate(stores.pool);
  const catalog = loadCatalog({ manifestPath: options.manifestPath, dataDir: mkdtempSync(join(tmpdir(), "atomic-orch-")), testModelWhenEmpty: false });
  const engine = new LlamaEngine({ models: catalog, threads: 1, gpu: "cpu", contextSize: 2048, maxQueue: 16, queueTimeoutMs: 60_000, logger });
  await engine.start();
  const pipeline: PipelineDeps = {
    engine,
    models: new ModelDirectory(catalog, engine),
    executions: stores.executions,
    contentHasher: new ContentHasher(options.contentHashKey ?? randomBytes(32)),
    limits: { maxTokensLimit: 4096, structuredAttempts: 2 },
  };
  return {
    pipeline,
    engine,
    stores,
    catalog,
    close: async () => {
      await engine.close();
      await stores.close();
    },
  };
}
