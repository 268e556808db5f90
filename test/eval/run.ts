/**
 * `npm run eval`: every model of the family answers the labelled task sets of test/eval/tasks through the gateway
 * (HTTP, policy, model hosts, grammar, validation, execution records: the real path), and each answer is checked.
 * Prints accuracy, tokens and latency per model and task kind, and writes
 *   <out>/eval-<stamp>.json    the run: settings, seeds, models (with digests), the table, every item's outcome
 *   <out>/eval-<stamp>.jsonl   one row per item × model in `npm run bench:routing`'s table format, for replay
 *
 *   npm run eval -- [--models a,b] [--kinds k1,k2] [--split tune|holdout|all] [--per-kind N] [--out DIR]
 *                   [--auto linucb,logistic-ts,logistic-ts:embedding]   (model "auto" learning online: ./auto.ts)
 *                   [--auto-order SEED]   (the seeded order the auto runs take the items in; default 20261206)
 *
 * Chat-capable models get the items' chat messages (and the schema as response_format where the item has one);
 * completion-only (base) models get the few-shot completion prompt; embedding-only models classify the sentiment and
 * topic items by the nearest label description (cosine). Temperature 0 and each item's seed, so a run
 * is repeatable on the same machine. Holdout items (see test/eval/README.md) exist to be reported, never tuned on.
 */
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { execFileSync } from "node:child_process";
import { extractFeatures } from "../../src/bidding/features.js";
import { startGateway } from "../../src/bootstrap/gateway.js";
import { ADMIN_KEY_FILE } from "../../src/bootstrap/identity.js";
import { ConfigSchema } from "../../src/config/schema.js";
import { loadManifest, modelFilePath, saveManifest, type ModelEntry } from "../../src/models/manifest.js";
import { buildTestModel } from "../../src/models/test-model.js";
import { createLogger } from "../../src/observability/logger.js";
import { biddingRequestOf } from "../../src/pipeline/routing.js";
import { percentile, round } from "../bench/stats.js";
import { startTestDatabaseServer } from "../support/database-server.js";
import { autoPass, freshDatabase, parseEngines, printAutoReport, shuffledItems, type AutoEngine, type AutoOutcome } from "./auto.js";
import { DEFAULT_HOLDOUT_SEEDS, DEFAULT_TUNE_SEEDS, generateEvalItems, TASK_SETS } from "./tasks/index.js";
import type { EvalItem, EvalKind } from "./tasks/types.js";

const TEST_MODEL = "atomic-test-random";

interface Outcome {
  item: string;
  kind: EvalKind;
  taskType: string;
  split: EvalItem["split"];
  seed: number;
  model: string;
  api: "chat" | "completion" | "embedding";
  correct: boolean;
  detail: string;
  status: number;
  promptTokens: number;
  completionTokens: number;
  latencyMs: number;
  cost: number;
  answer: string;
}

function parse() {
  const { values } = parseArgs({
    options: {
      models: { type: "string" },
      kinds: { type: "string" },
      split: { type: "string", default: "all" },
      "per-kind": { type: "string", default: "10" },
      out: { type: "string", default: "eval-results" },
      auto: { type: "string" },
      "auto-order": { type: "string", default: "20261206" },
    },
  });
  const split = values.split;
  if (split !== "tune" && split !== "holdout" && split !== "all") throw new Error("--split is tune, holdout or all");
  const perKind = Number(values["per-kind"]);
  if (!Number.isInteger(perKind) || perKind < 1) throw new Error("--per-kind is a positive integer");
  const kinds = values.kinds?.split(",").map((k) => k.trim()) as EvalKind[] | undefined;
  const known = TASK_SETS.map((set) => set.kind);
  const unknown = (kinds ?? []).filter((k) => !known.includes(k));
  if (unknown.length > 0) throw new Error(`unknown task kinds ${unknown.join(", ")}; known: ${known.join(", ")}`);
  const auto = values.auto === undefined ? [] : parseEngines(values.auto);
  const autoOrder = Number(values["auto-order"]);
  if (!Number.isInteger(autoOrder)) throw new Error("--auto-order is an integer seed");
  return { models: values.models?.split(",").map((m) => m.trim()), kinds, split, perKind, out: resolve(values.out), auto, autoOrder };
}

/** The family as installed, plus the generated test model: the models every eval run compares. */
function familyManifest(dir: string, wanted: string[] | undefined): { path: string; models: ModelEntry[] } {
  const installedPath = resolve(process.env.ATOMIC_MODELS_HOME ?? ".tools/models", "manifest.json");
  const installed = loadManifest(installedPath).models.map((m) => ({ ...m, file: modelFilePath(installedPath, m) }));
  const bytes = buildTestModel({ seed: 1 });
  writeFileSync(join(dir, `${TEST_MODEL}.gguf`), bytes);
  const generated: ModelEntry = {
    id: TEST_MODEL, file: `${TEST_MODEL}.gguf`, sha256: createHash("sha256").update(bytes).digest("hex"), sizeBytes: bytes.length, contextLength: 4096,
    capabilities: ["chat", "completion", "embedding"], cost: { unit: "compute-seconds", per1kPromptTokens: 0.02, per1kCompletionTokens: 0.5 }, parallel: 1,
  };
  const all = [...installed, generated];
  const unknown = (wanted ?? []).filter((id) => !all.some((m) => m.id === id));
  if (unknown.length > 0) throw new Error(`--models names models that are not installed: ${unknown.join(", ")} (installed: ${all.map((m) => m.id).join(", ")})`);
  const models = all.filter((m) => wanted === undefined || wanted.includes(m.id));
  const path = join(dir, "manifest.json");
  // One request at a time per model: latency is measured per item, not under load.
  saveManifest(path, { version: 1, models: models.map((m) => ({ ...m, parallel: 1 })) });
  return { path, models };
}

/** The eval's gateway: one llama.cpp thread per model, no Temporal, silent; `bidding` for an --auto engine. */
function gatewayConfig(dataDir: string, databaseUrl: string, manifestPath: string, bidding?: AutoEngine["bidding"]) {
  return ConfigSchema.parse({
    server: { port: 0 }, dataDir, database: { url: databaseUrl },
    models: { manifest: manifestPath, family: "", testModelWhenEmpty: false },
    inference: { threads: 1, gpu: "cpu", queueTimeoutMs: 600_000 },
    egress: { selfTest: { mode: "off" } }, temporal: { enabled: false }, log: { level: "silent" },
    // Routing alone: with the verdicts fed back, adaptation would add exemplars that the fixed choices never had.
    ...(bidding === undefined ? {} : { bidding, adaptation: { enabled: false } }),
  });
}

function adminKey(dataDir: string): string {
  return readFileSync(join(dataDir, ADMIN_KEY_FILE), "utf8").trim();
}

type Answered = Omit<Outcome, "item" | "kind" | "taskType" | "split" | "seed" | "model" | "cost" | "correct" | "detail">;

/** How a model takes part: generation models answer every item, embedding models classify by nearest description. */
function canAnswer(model: ModelEntry, item: EvalItem): boolean {
  return generates(model) || (model.capabilities.includes("embedding") && item.nearest !== undefined);
}

function generates(model: ModelEntry): boolean {
  return model.capabilities.includes("chat") || model.capabilities.includes("completion");
}

/** One embeddings request with the text and every label's description; the answer is the nearest label. */
async function classifyByEmbedding(url: string, key: string, model: ModelEntry, item: EvalItem): Promise<Answered> {
  const { text, labels } = item.nearest!;
  const names = Object.keys(labels);
  const started = performance.now();
  const response = await fetch(`${url}/v1/embeddings`, {
    method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ model: model.id, input: [text, ...names.map((name) => labels[name]!)] }),
  });
  const json = (await response.json()) as { data?: Array<{ embedding: number[] }>; usage?: { prompt_tokens: number }; error?: { code: string } };
  const latencyMs = performance.now() - started;
  if (!response.ok || json.data === undefined) {
    return { api: "embedding", status: response.status, promptTokens: 0, completionTokens: 0, latencyMs, answer: `(${response.status} ${json.error?.code ?? "error"})` };
  }
  // The gateway returns unit-length vectors, so the dot product is the cosine.
  const [query, ...described] = json.data.map((d) => d.embedding);
  const similarity = described.map((vector) => vector.reduce((sum, x, i) => sum + x * query![i]!, 0));
  const nearest = names[similarity.indexOf(Math.max(...similarity))]!;
  return { api: "embedding", status: response.status, promptTokens: json.usage?.prompt_tokens ?? 0, completionTokens: 0, latencyMs, answer: nearest };
}

/** `completionOnly`: every generation model gets the completion prompt (an --auto run compares them on it). */
async function ask(url: string, key: string, model: ModelEntry, item: EvalItem, completionOnly: boolean): Promise<Answered> {
  if (!generates(model)) return classifyByEmbedding(url, key, model, item);
  const chat = model.capabilities.includes("chat") && !completionOnly;
  const body = chat
    ? {
      model: model.id, messages: item.messages, max_tokens: item.maxTokens, temperature: 0, seed: item.seed,
      ...(item.schema ? { response_format: { type: "json_schema", json_schema: { name: item.kind, schema: item.schema } } } : {}),
    }
    : { model: model.id, prompt: item.completion.prompt, stop: item.completion.stop, max_tokens: item.maxTokens, temperature: 0, seed: item.seed };
  const started = performance.now();
  const response = await fetch(`${url}/v1/${chat ? "chat/completions" : "completions"}`, {
    method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${key}` }, body: JSON.stringify(body),
  });
  const json = (await response.json()) as { choices?: Array<{ text?: string; message?: { content: string } }>; usage?: { prompt_tokens: number; completion_tokens: number }; error?: { code: string } };
  const latencyMs = performance.now() - started;
  const answer = chat ? json.choices?.[0]?.message?.content ?? "" : json.choices?.[0]?.text ?? "";
  return {
    api: chat ? "chat" : "completion",
    status: response.status,
    promptTokens: json.usage?.prompt_tokens ?? 0,
    completionTokens: json.usage?.completion_tokens ?? 0,
    latencyMs,
    answer: response.ok ? answer : `(${response.status} ${json.error?.code ?? "error"})`,
  };
}

/**
 * Features the bidding bench reads from a table row (see test/bench/routing.ts): the request's shape as the gateway's
 * bidding read it, so that a replay routes on what a live router saw. Until 2026-12-07 the row carried the task
 * set's own task type, which the gateway does not infer (on the completion prompt it reads five of six kinds as
 * "completion"): a replay of LinUCB on such a table saw the kinds apart, 101.3 % of the better model's quality
 * against 99.1 % on the gateway's features.
 */
function routingRow(outcome: Outcome, item: EvalItem): Record<string, unknown> {
  const request = outcome.api === "completion"
    ? biddingRequestOf({ kind: "completion", prompt: item.completion.prompt }, {})
    : biddingRequestOf({ kind: "chat", messages: item.messages }, item.schema ? { schema: item.schema } : {});
  const features = extractFeatures(request);
  return {
    task: outcome.item, model: outcome.model, success: outcome.correct, cost: outcome.cost, latency_ms: round(outcome.latencyMs, 1),
    // The request's text, for bidding that reads it: what the model was sent (the last user message of a chat).
    prompt: request.text,
    kind: outcome.kind, task_type: features.taskType, input_tokens: outcome.promptTokens, output_tokens: outcome.completionTokens,
    schema_properties: features.schemaProperties, schema_depth: features.schemaDepth, non_ascii: features.nonAsciiShare, items: features.items,
    split: outcome.split, seed: outcome.seed,
  };
}

/** The commit the run measured, and whether the working tree differed from it (then the figures are not the commit's). */
function sourceOf(): { commit: string | null; dirty: boolean | null } {
  try {
    const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { encoding: "utf8" }).trim() !== "";
    return { commit, dirty };
  } catch {
    return { commit: null, dirty: null };
  }
}

function pct(n: number, d: number): string {
  return d === 0 ? "—" : `${Math.round((100 * n) / d)}%`;
}

function printTable(outcomes: Outcome[], models: ModelEntry[], kinds: EvalKind[]): void {
  const width = 26;
  console.log(`\n${"kind".padEnd(12)}${models.map((m) => m.id.padStart(width)).join("")}`);
  console.log(`${"".padEnd(12)}${models.map(() => "acc   tok in/out  p50 ms".padStart(width)).join("")}`);
  for (const kind of [...kinds, "all" as const]) {
    const cells = models.map((model) => {
      const rows = outcomes.filter((o) => o.model === model.id && (kind === "all" || o.kind === kind));
      if (rows.length === 0) return "".padStart(width);
      const correct = rows.filter((o) => o.correct).length;
      const tokensIn = rows.reduce((n, o) => n + o.promptTokens, 0) / rows.length;
      const tokensOut = rows.reduce((n, o) => n + o.completionTokens, 0) / rows.length;
      const p50 = percentile(rows.map((o) => o.latencyMs), 50);
      return `${pct(correct, rows.length).padStart(4)} ${`${Math.round(tokensIn)}/${Math.round(tokensOut)}`.padStart(11)} ${String(Math.round(p50)).padStart(7)}`.padStart(width);
    });
    console.log(`${kind.padEnd(12)}${cells.join("")}`);
  }
}

async function main(): Promise<void> {
  const options = parse();
  const source = sourceOf();
  const seeds = options.split === "tune" ? DEFAULT_TUNE_SEEDS : options.split === "holdout" ? DEFAULT_HOLDOUT_SEEDS : [...DEFAULT_TUNE_SEEDS, ...DEFAULT_HOLDOUT_SEEDS];
  const kinds = options.kinds ?? TASK_SETS.map((set) => set.kind);
  const items = generateEvalItems({ seeds, perKind: options.perKind, kinds });
  const dir = mkdtempSync(join(tmpdir(), "atomic-eval-"));
  const manifest = familyManifest(dir, options.models);
  const database = await startTestDatabaseServer();
  const gateway = await startGateway(gatewayConfig(join(dir, "data"), database.url, manifest.path), createLogger({ level: "silent" }));
  const key = adminKey(join(dir, "data"));
  let closed: Promise<void> | null = null;
  const closeOnce = () => (closed ??= gateway.close());
  console.log(`atomic eval — ${cpus()[0]?.model ?? "cpu"} × ${availableParallelism()}, 1 llama.cpp thread per model, node ${process.version}`);
  console.log(`${items.length} items (${kinds.join(", ")}; seeds ${seeds.join(", ")}; ${options.perKind} per kind and seed) × ${manifest.models.length} models: ${manifest.models.map((m) => m.id).join(", ")}`);

  const outcomes: Outcome[] = [];
  // One shuffle for every engine: kinds mixed, as traffic is. Only items every generation model answers. One order
  // of 360 items moves an engine's accuracy by several points; --auto-order takes another.
  const autoOrder = shuffledItems(items, options.autoOrder);
  const autoRuns: Array<{ label: string; outcomes: AutoOutcome[] }> = [];
  const rows: Array<Record<string, unknown>> = [];
  const started = performance.now();
  try {
    for (const model of manifest.models) {
      process.stderr.write(`${model.id}: `);
      for (const item of items.filter((candidate) => canAnswer(model, candidate))) {
        const answered = await ask(gateway.url, key, model, item, options.auto.length > 0);
        const verdict = answered.status === 200 ? item.check(answered.answer) : { correct: false, detail: `answered ${answered.answer}` };
        const cost = (answered.promptTokens * model.cost.per1kPromptTokens + answered.completionTokens * model.cost.per1kCompletionTokens) / 1000;
        const outcome: Outcome = { item: item.id, kind: item.kind, taskType: item.taskType, split: item.split, seed: item.seed, model: model.id, ...answered, ...verdict, cost: round(cost, 6) };
        outcomes.push(outcome);
        rows.push(routingRow(outcome, item));
        process.stderr.write(verdict.correct ? "+" : ".");
      }
      process.stderr.write("\n");
    }
    // The per-model gateway's model hosts are done: the engines' gateways load their own.
    await closeOnce();
    for (const engine of options.auto) {
      process.stderr.write(`auto (${engine.label}): `);
      const dataDir = join(dir, `auto-${autoRuns.length}`);
      const url = await freshDatabase(database.url, `atomic_eval_auto_${autoRuns.length}`);
      const auto = await startGateway(gatewayConfig(dataDir, url, manifest.path, engine.bidding), createLogger({ level: "silent" }));
      try {
        const outcomes = await autoPass({ url: auto.url, key: adminKey(dataDir) }, autoOrder, manifest.models, (correct) => process.stderr.write(correct ? "+" : "."));
        autoRuns.push({ label: engine.label, outcomes });
      } finally {
        await auto.close();
      }
      process.stderr.write("\n");
    }
  } finally {
    await closeOnce();
    await database.stop();
  }

  printTable(outcomes, manifest.models, kinds);
  const candidates = manifest.models.filter((m) => m.capabilities.includes("completion")).map((m) => m.id);
  const autoSummary = autoRuns.length === 0 ? undefined : printAutoReport(outcomes, autoRuns, autoOrder, candidates);
  for (const split of ["tune", "holdout"] as const) {
    const line = manifest.models.map((m) => {
      const rowsOf = outcomes.filter((o) => o.model === m.id && o.split === split);
      return `${m.id} ${pct(rowsOf.filter((o) => o.correct).length, rowsOf.length)}`;
    });
    if (outcomes.some((o) => o.split === split)) console.log(`${split.padEnd(8)} ${line.join("   ")}`);
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  mkdirSync(options.out, { recursive: true });
  const summary = manifest.models.flatMap((model) => kinds.map((kind) => {
    const of = outcomes.filter((o) => o.model === model.id && o.kind === kind);
    return {
      model: model.id, kind, items: of.length, correct: of.filter((o) => o.correct).length, accuracy: of.length === 0 ? null : round(of.filter((o) => o.correct).length / of.length, 4),
      promptTokensMean: of.length === 0 ? null : round(of.reduce((n, o) => n + o.promptTokens, 0) / of.length, 1),
      completionTokensMean: of.length === 0 ? null : round(of.reduce((n, o) => n + o.completionTokens, 0) / of.length, 1),
      latencyMsP50: round(percentile(of.map((o) => o.latencyMs), 50), 1), latencyMsP95: round(percentile(of.map((o) => o.latencyMs), 95), 1),
      cost: round(of.reduce((n, o) => n + o.cost, 0), 6),
    };
  }));
  const json = join(options.out, `eval-${stamp}.json`);
  const jsonl = join(options.out, `eval-${stamp}.jsonl`);
  writeFileSync(json, `${JSON.stringify({
    run: { at: new Date().toISOString(), ...source, machine: `${cpus()[0]?.model ?? "cpu"} × ${availableParallelism()}`, threads: 1, seeds, perKind: options.perKind, kinds, wallSeconds: round((performance.now() - started) / 1000, 1) },
    models: manifest.models.map((m) => ({ id: m.id, sha256: m.sha256, cost: m.cost })),
    summary,
    ...(autoSummary === undefined ? {} : { auto: { engines: options.auto, orderSeed: options.autoOrder, order: autoOrder.map((item) => item.id), summary: autoSummary, outcomes: autoRuns } }),
    outcomes,
  }, null, 2)}\n`);
  writeFileSync(jsonl, rows.map((row) => JSON.stringify(row)).join("\n") + "\n");
  console.log(`\nwrote ${json}\n      ${jsonl} (replay: npm run bench:routing -- ${jsonl})`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
