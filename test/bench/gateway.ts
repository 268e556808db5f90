/**
 * `npm run bench`: what the gateway costs on top of llama.cpp, measured in one run on this machine.
 *   1. Generation throughput: bare node-llama-cpp in-process vs the same model through the gateway (HTTP, model
 *      host process, validation, execution stored in PostgreSQL), alternating runs; reported as a ratio.
 *   2. Added latency per request: the gateway with a no-op engine vs a bare Hono server answering the same
 *      request on the same loopback HTTP stack; p50/p99.
 * Targets (issue 2): ratio >= 0.97; added latency p50 <= 0.5 ms. Figures are printed, never asserted.
 */
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { availableParallelism, cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { AddressInfo } from "node:net";
import { getLlama, LlamaCompletion, LlamaLogLevel } from "node-llama-cpp";
import { startGateway } from "../../src/bootstrap/gateway.js";
import { ConfigSchema } from "../../src/config/schema.js";
import { createApp } from "../../src/gateway/app.js";
import { NoopEngine } from "../../src/inference/noop/engine.js";
import { saveManifest } from "../../src/models/manifest.js";
import { buildTestModel, type TestModelOptions } from "../../src/models/test-model.js";
import { createLogger } from "../../src/observability/logger.js";
import { ModelDirectory } from "../../src/pipeline/model-directory.js";
import { startEmbeddedPostgres } from "../../src/store/embedded/embedded-postgres.js";
import { migrate } from "../../src/store/postgres/migrate.js";
import { openPostgresStores } from "../../src/store/postgres/index.js";
import type { CatalogModel } from "../../src/models/catalog.js";
import { percentile, round } from "./stats.js";

const THREADS = Number(process.env.BENCH_THREADS ?? Math.max(1, availableParallelism()));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const LATENCY_REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2000);
const PROMPT = "The quick brown fox jumps over the lazy dog.";

const SHAPES: Array<{ label: string; options: TestModelOptions; maxTokens: number; requests: number }> = [
  { label: "tiny (64x2)", options: { seed: 1 }, maxTokens: 512, requests: 8 },
  { label: "small (512x8)", options: { seed: 1, embeddingLength: 512, layers: 8, heads: 8, feedForwardLength: 1536 }, maxTokens: 256, requests: 4 },
];

function writeModel(dir: string, id: string, options: TestModelOptions): { manifestPath: string; path: string } {
  const bytes = buildTestModel(options);
  const path = join(dir, `${id}.gguf`);
  writeFileSync(path, bytes);
  const manifestPath = join(dir, `${id}.manifest.json`);
  saveManifest(manifestPath, {
    version: 1,
    models: [{
      id, file: `${id}.gguf`, sha256: createHash("sha256").update(bytes).digest("hex"), sizeBytes: bytes.length, contextLength: 4096,
      capabilities: ["chat", "completion", "embedding"], cost: { unit: "compute-seconds", per1kPromptTokens: 1, per1kCompletionTokens: 1 }, parallel: 1,
    }],
  });
  return { manifestPath, path };
}

async function bareTokensPerSecond(path: string, maxTokens: number, requests: number): Promise<number> {
  const llama = await getLlama({ build: "never", gpu: false, maxThreads: THREADS, logLevel: LlamaLogLevel.error, progressLogs: false, skipDownload: true });
  const model = await llama.loadModel({ modelPath: path });
  const context = await model.createContext({ sequences: 1, contextSize: 4096, threads: THREADS });
  const completion = new LlamaCompletion({ contextSequence: context.getSequence() });
  await completion.generateCompletion(PROMPT, { maxTokens: 8, temperature: 0.7, seed: 0 });
  let tokens = 0;
  const started = performance.now();
  for (let i = 0; i < requests; i++) {
    await completion.generateCompletion(PROMPT, { maxTokens, temperature: 0.7, seed: i + 1, onToken: (t) => { tokens += t.length; } });
  }
  const seconds = (performance.now() - started) / 1000;
  await context.dispose();
  await model.dispose();
  await llama.dispose();
  return tokens / seconds;
}

async function gatewayTokensPerSecond(url: string, maxTokens: number, requests: number): Promise<number> {
  const call = (seed: number, max: number) => fetch(`${url}/v1/completions`, {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ prompt: PROMPT, max_tokens: max, temperature: 0.7, seed }),
  }).then((r) => r.json() as Promise<{ usage: { completion_tokens: number } }>);
  await call(0, 8);
  let tokens = 0;
  const started = performance.now();
  for (let i = 0; i < requests; i++) tokens += (await call(i + 1, maxTokens)).usage.completion_tokens;
  return tokens / ((performance.now() - started) / 1000);
}

async function latencies(url: string, body: string, count: number): Promise<number[]> {
  const sample: number[] = [];
  for (let i = 0; i < count + 100; i++) {
    const started = performance.now();
    const response = await fetch(`${url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body });
    await response.arrayBuffer();
    if (i >= 100) sample.push(performance.now() - started);
  }
  return sample;
}

function listen(app: Hono): Promise<{ url: string; close(): Promise<void> }> {
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, (info: AddressInfo) =>
      resolve({ url: `http://127.0.0.1:${info.port}`, close: () => new Promise((r) => server.close(() => r())) }));
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "atomic-bench-"));
  const logger = createLogger({ level: "silent" });
  const embedded = process.env.DATABASE_URL ? undefined : await startEmbeddedPostgres({ dataDir: join(dir, "postgres") });
  const databaseUrl = process.env.DATABASE_URL ?? embedded!.connectionString;
  console.log(`atomic bench — ${cpus()[0]?.model ?? "cpu"} × ${availableParallelism()}, ${THREADS} inference thread(s), node ${process.version}`);

  console.log("\n1. generation throughput, bare node-llama-cpp vs through the gateway (same model, same settings)");
  for (const shape of SHAPES) {
    const { manifestPath, path } = writeModel(dir, `bench-${shape.options.embeddingLength ?? 64}`, shape.options);
    const config = ConfigSchema.parse({
      server: { port: 0 }, dataDir: join(dir, "data"), database: { url: databaseUrl },
      models: { manifest: manifestPath, testModelWhenEmpty: false }, inference: { threads: THREADS, gpu: "cpu", maxTokensLimit: 4096 }, log: { level: "silent" },
    });
    const gateway = await startGateway(config, logger);
    const bare: number[] = [];
    const through: number[] = [];
    try {
      for (let round_ = 0; round_ < ROUNDS; round_++) {
        bare.push(await bareTokensPerSecond(path, shape.maxTokens, shape.requests));
        through.push(await gatewayTokensPerSecond(gateway.url, shape.maxTokens, shape.requests));
      }
    } finally {
      await gateway.close();
    }
    const b = percentile(bare, 50);
    const g = percentile(through, 50);
    console.log(`   ${shape.label.padEnd(14)} bare ${round(b, 0)} tok/s   gateway ${round(g, 0)} tok/s   ratio ${round(g / b)} (median of ${ROUNDS} alternating rounds, ${shape.requests} × ${shape.maxTokens} tokens each)`);
  }

  console.log("\n2. added latency per request: gateway with a no-op engine vs a bare Hono server, loopback HTTP");
  const stores = await openPostgresStores(databaseUrl);
  await migrate(stores.pool);
  const noopModel: CatalogModel = {
    id: "noop", file: "noop", path: "noop", sha256: "0".repeat(64), sizeBytes: 1, contextLength: 4096, capabilities: ["chat"],
    cost: { unit: "compute-seconds", per1kPromptTokens: 0, per1kCompletionTokens: 0 }, parallel: 1, testModel: false,
  };
  const engine = new NoopEngine(["noop"]);
  const gatewayApp = createApp({
    engine, models: new ModelDirectory([noopModel], engine), executions: stores.executions, schemas: stores.schemas, health: stores.health,
    logger, bodyLimitBytes: 1024 * 1024, limits: { maxTokensLimit: 4096, structuredAttempts: 2 },
  });
  const bareApp = new Hono().post("/v1/chat/completions", async (c) => {
    await c.req.json();
    return c.json({ id: "x", object: "chat.completion", created: 0, model: "noop", choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }] });
  });
  const gatewayServer = await listen(gatewayApp);
  const bareServer = await listen(bareApp);
  const body = JSON.stringify({ model: "noop", messages: [{ role: "user", content: PROMPT }], max_tokens: 16 });
  const bareSample = await latencies(bareServer.url, body, LATENCY_REQUESTS);
  const gatewaySample = await latencies(gatewayServer.url, body, LATENCY_REQUESTS);
  for (const [label, sample] of [["bare Hono", bareSample], ["gateway", gatewaySample]] as const) {
    console.log(`   ${label.padEnd(10)} p50 ${round(percentile(sample, 50))} ms   p99 ${round(percentile(sample, 99))} ms   (${sample.length} sequential requests)`);
  }
  console.log(`   added      p50 ${round(percentile(gatewaySample, 50) - percentile(bareSample, 50))} ms   p99 ${round(percentile(gatewaySample, 99) - percentile(bareSample, 99))} ms   (validation, model resolution, execution INSERT with a durable commit)`);

  const inProcess: number[] = [];
  for (let i = 0; i < LATENCY_REQUESTS + 100; i++) {
    const started = performance.now();
    const response = await gatewayApp.request("/v1/chat/completions", { method: "POST", headers: { "content-type": "application/json" }, body });
    await response.arrayBuffer();
    if (i >= 100) inProcess.push(performance.now() - started);
  }
  console.log(`   in-process gateway (no HTTP): p50 ${round(percentile(inProcess, 50))} ms   p99 ${round(percentile(inProcess, 99))} ms`);

  await gatewayServer.close();
  await bareServer.close();
  await stores.close();
  await embedded?.stop();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
