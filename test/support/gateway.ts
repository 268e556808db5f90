import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { startGateway, type RunningGateway } from "../../src/bootstrap/gateway.js";
import { ADMIN_KEY_FILE } from "../../src/bootstrap/identity.js";
import { issueApiKey } from "../../src/identity/issue.js";
import { SITE_SCOPES, type Scope } from "../../src/identity/principal.js";
import { createPool } from "../../src/store/postgres/database.js";
import { PostgresApiKeyStore } from "../../src/store/postgres/api-keys.js";
import { ConfigSchema, type ConfigInput } from "../../src/config/schema.js";
import { createLogger } from "../../src/observability/logger.js";
import { createTestDatabase } from "./database.js";
import type { TestModels } from "./models.js";
import { testWorkflows } from "./temporal.js";

export interface TestGateway {
  url: string;
  /** Where the gateway keeps its keys (the audit public key is keys/audit-signing.pub.jwk). */
  dataDir: string;
  gateway: RunningGateway;
  /** Every log line the gateway wrote, parsed. */
  logs: Array<Record<string, unknown>>;
  databaseUrl: string;
  /** The admin key the gateway issued itself on its first start (tenant "default"). */
  adminKey: string;
  /** fetch on the gateway's URL + `path`, as the admin unless `init.headers` sets its own Authorization. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** POST of a JSON body, as the admin unless `headers` sets its own Authorization. */
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  /** A new API key for `tenant` with `scopes`, as `atomic apikeys create` would issue it. */
  issueKey(tenant: string, scopes: Scope[]): Promise<string>;
  close(): Promise<void>;
}

export interface TestGatewayOptions {
  models: TestModels;
  /**
   * As `atomic serve` chooses its models: the installed family's manifest and the generated test model when nothing
   * is pinned. Off unless asked for: a test serves exactly the models it names.
   */
  catalog?: { family: string; testModelWhenEmpty: boolean };
  /** How often the operators' unloads and loads made on other gateways are read (models.serviceStateRefreshMs). */
  serviceStateRefreshMs?: number;
  /** models.mmap: let llama.cpp map the model files (the default reads the weights into each host's memory). */
  mmap?: boolean;
  inference?: ConfigInput["inference"];
  auth?: ConfigInput["auth"];
  limits?: ConfigInput["limits"];
  bidding?: ConfigInput["bidding"];
  policy?: ConfigInput["policy"];
  /** Orchestration: off unless a test asks for it (then on the shared test dev server, in a namespace of its own). */
  temporal?: ConfigInput["temporal"];
  webhooks?: ConfigInput["webhooks"];
  retention?: ConfigInput["retention"];
  adaptation?: ConfigInput["adaptation"];
  metrics?: ConfigInput["metrics"];
  tracing?: ConfigInput["tracing"];
  /** Destinations the egress allowlist names (a trace collector must be among them); the guard itself stays off. */
  egressAllow?: string[];
  /** TLS and CORS; the gateway still listens on a free loopback port. */
  server?: Pick<NonNullable<ConfigInput["server"]>, "tls" | "cors" | "requestTimeoutMs">;
  /**
   * A second gateway of the same site as `sameSiteAs`: on its database and with its data directory (so its audit
   * keys), as gateways sharing one database in production share the site's keys. The first one drops the database:
   * close this one first.
   */
  sameSiteAs?: TestGateway;
}

/**
 * A real gateway on a loopback port: its own migrated database, real llama.cpp model hosts (one thread each, so
 * two test workers fit two cores), logs captured for assertions.
 */
/** Port 1 (tcpmux) is not served on these machines: connecting to it on loopback is refused at once. */
const CLOSED_PORT = 1;

export async function startTestGateway(options: TestGatewayOptions): Promise<TestGateway> {
  const site = options.sameSiteAs;
  const database = site === undefined ? await createTestDatabase() : { url: site.databaseUrl, drop: async () => {} };
  const logs: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString("utf8").split("\n")) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  const dataDir = site?.dataDir ?? mkdtempSync(join(tmpdir(), "atomic-data-"));
  const config = ConfigSchema.parse({
    server: { host: "127.0.0.1", port: 0, ...options.server },
    dataDir,
    database: { url: database.url },
    models: {
      manifest: options.models.manifestPath, family: "", testModelWhenEmpty: false, ...options.catalog,
      ...(options.serviceStateRefreshMs === undefined ? {} : { serviceStateRefreshMs: options.serviceStateRefreshMs }),
      ...(options.mmap === undefined ? {} : { mmap: options.mmap }),
    },
    inference: { threads: 1, gpu: "cpu", ...options.inference },
    // A short sequencer interval keeps tests that wait for receipts quick.
    audit: { intervalMs: 10 },
    // Tests probe egress on loopback only: a closed port stands for the outside world that must not answer.
    egress: { selfTest: { targets: [`127.0.0.1:${CLOSED_PORT}`], timeoutMs: 500 }, ...(options.egressAllow === undefined ? {} : { allow: options.egressAllow }) },
    ...(options.auth === undefined ? {} : { auth: options.auth }),
    ...(options.limits === undefined ? {} : { limits: options.limits }),
    ...(options.bidding === undefined ? {} : { bidding: options.bidding }),
    ...(options.policy === undefined ? {} : { policy: options.policy }),
    temporal: options.temporal ?? { enabled: false },
    ...(options.webhooks === undefined ? {} : { webhooks: options.webhooks }),
    ...(options.retention === undefined ? {} : { retention: options.retention }),
    ...(options.adaptation === undefined ? {} : { adaptation: options.adaptation }),
    ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
    ...(options.tracing === undefined ? {} : { tracing: options.tracing }),
    log: { level: "info" },
  });
  const gateway = await startGateway(config, createLogger({ level: "info", destination }), config.temporal.enabled ? { workflows: testWorkflows() } : {});
  const keysPool = createPool(database.url, { max: 1 });
  const issueKey = async (tenant: string, scopes: Scope[]) => (await issueApiKey(new PostgresApiKeyStore(keysPool), { tenant, scopes }))!.key;
  // With a JWT provider configured the gateway issues no first-start key; tests still want an admin.
  const adminKeyFile = join(dataDir, ADMIN_KEY_FILE);
  const adminKey = existsSync(adminKeyFile) ? readFileSync(adminKeyFile, "utf8").trim() : await issueKey("default", ["admin", ...SITE_SCOPES]);
  const asAdmin = (headers: RequestInit["headers"]): Headers => {
    const merged = new Headers(headers);
    if (!merged.has("authorization")) merged.set("authorization", `Bearer ${adminKey}`);
    return merged;
  };
  return {
    url: gateway.url,
    dataDir,
    gateway,
    logs,
    databaseUrl: database.url,
    adminKey,
    fetch: (path, init = {}) => fetch(`${gateway.url}${path}`, { ...init, headers: asAdmin(init.headers) }),
    post: (path, body, headers = {}) => postJson(`${gateway.url}${path}`, body, Object.fromEntries(asAdmin(headers))),
    issueKey,
    close: async () => {
      await gateway.close();
      await keysPool.end();
      await database.drop();
    },
  };
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
}
