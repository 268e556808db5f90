/**
 * Atomic for the peers bench, in a process of its own (as the peers are): the gateway's HTTP app with everything a
 * chat completion goes through on a site — API-key check, quotas, classification, PII scan, policy decision, the
 * learner's tracking (its outcome saved in PostgreSQL, as the gateway saves it), the execution INSERT with a durable
 * commit and its audit event through the real audit queue and sequencer — over a no-op engine that answers at once.
 * Configured by ATOMIC_BENCH_NOOP (JSON: databaseUrl, dataDir, model); prints one JSON line ({"url", "key"}) once it
 * listens on 127.0.0.1.
 */
import { serve } from "@hono/node-server";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { startAudit } from "../../../src/bootstrap/audit.js";
import { BiddingRouter, PostgresBiddingStore } from "../../../src/bidding/index.js";
import { ConfigSchema } from "../../../src/config/schema.js";
import { createApp } from "../../../src/gateway/app.js";
import { Authenticator } from "../../../src/identity/authenticator.js";
import { generateApiKey } from "../../../src/identity/api-key.js";
import { NoopEngine } from "../../../src/inference/noop/engine.js";
import { RateLimiter } from "../../../src/limits/rate-limiter.js";
import { TokenBudget } from "../../../src/limits/token-budget.js";
import type { CatalogModel } from "../../../src/models/catalog.js";
import { createLogger } from "../../../src/observability/logger.js";
import { DisabledTaskService } from "../../../src/orchestration/service/disabled.js";
import { ModelDirectory } from "../../../src/pipeline/model-directory.js";
import { PendingOutcomes } from "../../../src/pipeline/routing.js";
import { PolicyStore } from "../../../src/policy/index.js";
import { ContentEraser } from "../../../src/retention/erasure.js";
import { migrate } from "../../../src/store/postgres/migrate.js";
import { openPostgresStores } from "../../../src/store/postgres/index.js";

const { databaseUrl, dataDir, model: modelId } = JSON.parse(process.env["ATOMIC_BENCH_NOOP"] ?? "{}") as { databaseUrl: string; dataDir: string; model: string };
const logger = createLogger({ level: "silent" });
const config = ConfigSchema.parse({ dataDir, database: { url: databaseUrl }, log: { level: "silent" } });
const stores = await openPostgresStores(databaseUrl);
await migrate(stores.pool);
const audit = await startAudit(config, { url: databaseUrl, stores }, logger);
const model: CatalogModel = {
  id: modelId, file: modelId, path: modelId, sha256: "0".repeat(64), sizeBytes: 1, contextLength: 4096, capabilities: ["chat"],
  cost: { unit: "compute-seconds", per1kPromptTokens: 0, per1kCompletionTokens: 0 }, parallel: 1, testModel: false,
};
const engine = new NoopEngine([modelId]);
const caller = generateApiKey();
const app = createApp({
  engine,
  models: new ModelDirectory([model], engine),
  executions: stores.executions,
  contentHasher: audit.hasher,
  audit: audit.deps,
  // The key check hashes and looks up the caller's key on every request, as on a site; the key lives in memory.
  access: {
    authenticator: new Authenticator({ apiKeys: { get: async (id: string) => (id === caller.id ? { ...caller, tenant: "bench", scopes: ["infer" as const], description: null, createdAt: new Date(), revokedAt: null } : null) } }),
    recordRefusal: async () => {},
  },
  // Configured but generous: the checks run, nothing is refused.
  quotas: {
    requests: new RateLimiter(() => ({ requestsPerMinute: 1e9, burst: 1e9 })),
    tokens: new TokenBudget({ usage: { tokensSince: async () => 0 }, budgetFor: () => 1e15 }),
  },
  routing: {
    router: await BiddingRouter.open({ store: new PostgresBiddingStore(stores.pool) }),
    pending: new PendingOutcomes(),
    omittedModel: "auto",
    tenantCriteria: () => undefined,
    onTrackingError: (error: unknown) => process.stderr.write(`tracking: ${String(error)}\n`),
  },
  policy: PolicyStore.open(fileURLToPath(new URL("../../../policies", import.meta.url))),
  schemas: stores.schemas,
  health: stores.health,
  logger,
  bodyLimitBytes: 1024 * 1024,
  limits: { maxTokensLimit: 4096, structuredAttempts: 2 },
  tasks: new DisabledTaskService(),
  webhooks: { allow: [], maxAttempts: 1 },
  erasure: new ContentEraser(stores.erasure, 500),
});
const server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, (info: AddressInfo) => {
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${info.port}`, key: caller.key })}\n`);
});
process.once("SIGTERM", () => {
  server.close(() => void (async () => {
    await audit.close();
    await stores.close();
    process.exit(0);
  })());
});
