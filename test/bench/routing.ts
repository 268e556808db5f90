/**
 * `npm run bench:routing [-- TABLE.csv|TABLE.jsonl]`: offline replay of model selection (issue 4).
 *
 * Each task of a table is offered to each policy in turn, through the same BiddingRouter the gateway uses (bids,
 * criteria, selection, tracker, learner), and the policy learns only what it chose: the outcome of the chosen model
 * in the table. Per policy — the LinUCB engine, random, round-robin, always-cheapest, lowest-latency,
 * always-strongest — and the hindsight oracle, it prints quality (success rate), total cost, both relative to
 * always-strongest (over all tasks and after the warm-up), cumulative regret, whether regret looks sublinear, and
 * writes the regret curves as an SVG. Then the CPU cost of one bid + select among 10 candidates.
 * Target (issue 4), on the synthetic table: ≥ 95 % of always-strongest quality at ≤ 40 % of its cost after the
 * warm-up, regret sublinear; bid + select ≤ 50 µs CPU. Printed, never asserted.
 *
 * Table format, one row per (task, model) — CSV with a header row, or JSONL with one object per line:
 *   task             task id; a task's rows may come in any order, tasks replay in order of first appearance
 *   model            model id; every task must list the same models
 *   success          1/0 or true/false: did this model's output do the job
 *   cost             what running it cost, in any one unit shared by all rows
 *   latency_ms       how long it took
 *   optional, per task (read from its first row):
 *   kind             a label for the context regret is measured in (default: task_type)
 *   task_type        chat | completion | structured | extraction | classification | summarization (default chat)
 *   input_tokens     prompt tokens (default 200)
 *   schema_properties, schema_depth, items   (default 0)
 *   non_ascii        share of non-ASCII characters, 0..1 (default 0)
 *   optional, per row:
 *   output_tokens    completion tokens (default 100)
 * Without a file, a synthetic table with known ground truth is generated per seed (below).
 *
 * Regret is measured against the best fixed model per kind in hindsight (pseudo-regret on the table's mean
 * utilities), with utility = the default criteria's weighted quality − cost − latency, cost and latency divided by
 * the largest among the task's models. The oracle row picks, per task, the best-utility model among those that
 * succeeded: an upper bound no policy can reach without seeing outcomes first.
 *
 * Environment: BENCH_ROUTING_TASKS (default 10000 synthetic tasks), BENCH_ROUTING_WARMUP (1000),
 * BENCH_ROUTING_SEEDS (1,2,3,4,5), BENCH_ROUTING_ALPHA and BENCH_ROUTING_RIDGE (LinUCB's defaults), BENCH_ROUTING_OUT (SVG folder; default
 * a temporary one).
 */
import { readFileSync, mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { runAuction } from "../../src/bidding/auction.js";
import { DEFAULT_WEIGHTS, resolveCriteria } from "../../src/bidding/criteria.js";
import { singleTaskPlan } from "../../src/bidding/decomposer.js";
import { PerformanceEstimates } from "../../src/bidding/estimates.js";
import { extractFeatures, featuresFromValues, TASK_TYPES, type TaskFeatures, type TaskType } from "../../src/bidding/features.js";
import type { Candidate } from "../../src/bidding/request.js";
import { seededRng, type Rng } from "../../src/util/rng.js";
import { BiddingRouter } from "../../src/bidding/router.js";
import { CheapestPolicy, LowestLatencyPolicy, RandomPolicy, RoundRobinPolicy, StrongestPolicy } from "../../src/bidding/selection/baselines.js";
import type { SelectionPolicy } from "../../src/bidding/selection/interface.js";
import { LinUcbPolicy } from "../../src/bidding/selection/linucb.js";
import { MemoryBiddingStore } from "../../src/bidding/store/memory.js";
import { percentile, round } from "./stats.js";

const TASKS = Number(process.env.BENCH_ROUTING_TASKS ?? 10_000);
const WARMUP = Number(process.env.BENCH_ROUTING_WARMUP ?? 1000);
const SEEDS = (process.env.BENCH_ROUTING_SEEDS ?? "1,2,3,4,5").split(",").map(Number);
const ALPHA = process.env.BENCH_ROUTING_ALPHA === undefined ? undefined : Number(process.env.BENCH_ROUTING_ALPHA);
const RIDGE = process.env.BENCH_ROUTING_RIDGE === undefined ? undefined : Number(process.env.BENCH_ROUTING_RIDGE);
const OUT = process.env.BENCH_ROUTING_OUT ?? join(tmpdir(), "atomic-bench-routing");
const QUALITY_TARGET = 0.95;
const COST_TARGET = 0.4;

// ---------------------------------------------------------------------------------------------------- the table

interface ModelInfo {
  id: string;
  cost: Candidate["cost"];
  strength: number;
}

interface Outcome {
  success: boolean;
  cost: number;
  latencyMs: number;
  completionTokens: number;
}

interface Task {
  id: string;
  kind: string;
  features: TaskFeatures;
  /** By model index. */
  outcomes: Outcome[];
}

interface Table {
  source: string;
  models: ModelInfo[];
  tasks: Task[];
}

// ------------------------------------------------------------------------------------------- synthetic ground truth

interface KindSpec {
  kind: string;
  taskType: TaskType;
  share: number;
  input: [number, number];
  output: [number, number];
  schemaProperties?: [number, number];
  schemaDepth?: [number, number];
  nonAscii?: [number, number];
}

/** Six kinds of work, from easy and short to hard and long. */
const KINDS: KindSpec[] = [
  { kind: "classify", taskType: "classification", share: 0.25, input: [20, 200], output: [3, 8], schemaProperties: [1, 1], schemaDepth: [1, 1] },
  { kind: "extract", taskType: "extraction", share: 0.2, input: [100, 800], output: [30, 90], schemaProperties: [3, 6], schemaDepth: [1, 1] },
  { kind: "chat", taskType: "chat", share: 0.2, input: [20, 300], output: [50, 200] },
  { kind: "summarize", taskType: "summarization", share: 0.1, input: [1500, 6000], output: [100, 300] },
  { kind: "structured", taskType: "structured", share: 0.15, input: [300, 2000], output: [150, 450], schemaProperties: [12, 30], schemaDepth: [2, 4] },
  { kind: "multilingual", taskType: "chat", share: 0.1, input: [50, 500], output: [80, 250], nonAscii: [0.6, 0.95] },
];

interface SyntheticModel extends ModelInfo {
  prefillTps: number;
  generationTps: number;
  /** Success probability per kind, in KINDS order. */
  success: number[];
}

/**
 * A tiny model good at easy kinds and poor at hard ones, a small generalist, a structured-output specialist, a
 * medium model, a large one good at everything and 15–50× the price, and a fast, cheap, unreliable one. Success
 * probabilities per kind (classify, extract, chat, summarize, structured, multilingual):
 */
const SYNTHETIC_MODELS: SyntheticModel[] = [
  { id: "tiny-1b", cost: { unit: "compute-seconds", per1kPromptTokens: 0.02, per1kCompletionTokens: 0.06 }, strength: 1, prefillTps: 4000, generationTps: 120, success: [0.94, 0.85, 0.8, 0.45, 0.3, 0.35] },
  { id: "small-3b", cost: { unit: "compute-seconds", per1kPromptTokens: 0.06, per1kCompletionTokens: 0.18 }, strength: 3, prefillTps: 2000, generationTps: 70, success: [0.96, 0.93, 0.9, 0.7, 0.55, 0.6] },
  { id: "coder-7b", cost: { unit: "compute-seconds", per1kPromptTokens: 0.2, per1kCompletionTokens: 0.6 }, strength: 7, prefillTps: 900, generationTps: 35, success: [0.9, 0.96, 0.75, 0.65, 0.92, 0.5] },
  { id: "medium-14b", cost: { unit: "compute-seconds", per1kPromptTokens: 0.35, per1kCompletionTokens: 1.05 }, strength: 14, prefillTps: 500, generationTps: 22, success: [0.96, 0.95, 0.93, 0.88, 0.85, 0.85] },
  { id: "large-70b", cost: { unit: "compute-seconds", per1kPromptTokens: 1, per1kCompletionTokens: 3 }, strength: 70, prefillTps: 150, generationTps: 8, success: [0.97, 0.97, 0.96, 0.94, 0.94, 0.95] },
  { id: "flaky-fast", cost: { unit: "compute-seconds", per1kPromptTokens: 0.03, per1kCompletionTokens: 0.09 }, strength: 2, prefillTps: 8000, generationTps: 200, success: [0.6, 0.6, 0.6, 0.6, 0.6, 0.6] },
];

/**
 * Per seed: each success probability moves by up to ±0.03 and the mix of kinds by up to ±20 %, so results over
 * several seeds say something about the learner, not about one table. Within a task, outcomes are correlated
 * (a hard instance is hard for every model): 70 % of the time a model draws against the task's shared difficulty.
 * Structured tasks get harder with schema size, more so for the small models.
 */
function syntheticTable(seed: number, count: number): Table {
  const rng = seededRng(seed);
  const uniform = (lo: number, hi: number) => lo + (hi - lo) * rng();
  const logUniform = (lo: number, hi: number) => Math.exp(uniform(Math.log(lo), Math.log(hi)));
  const models = SYNTHETIC_MODELS.map((m) => ({ ...m, success: m.success.map((p) => clamp(p + uniform(-0.03, 0.03), 0.02, 0.99)) }));
  const shares = KINDS.map((k) => k.share * uniform(0.8, 1.2));
  const totalShare = shares.reduce((a, b) => a + b, 0);

  const tasks: Task[] = [];
  for (let t = 0; t < count; t++) {
    let pick = rng() * totalShare;
    let k = 0;
    while (k < KINDS.length - 1 && (pick -= shares[k]!) > 0) k++;
    const spec = KINDS[k]!;
    const inputTokens = Math.round(logUniform(...spec.input));
    const schemaProperties = spec.schemaProperties ? Math.round(uniform(...spec.schemaProperties)) : 0;
    const features = featuresFromValues({
      taskType: spec.taskType,
      inputTokens,
      schemaProperties,
      schemaDepth: spec.schemaDepth ? Math.round(uniform(...spec.schemaDepth)) : 0,
      nonAsciiShare: spec.nonAscii ? uniform(...spec.nonAscii) : 0,
      json: schemaProperties > 0,
    });
    const difficulty = rng();
    const baseOutput = uniform(...spec.output);
    const outcomes = models.map((model): Outcome => {
      let p = model.success[k]!;
      if (spec.kind === "structured") p = clamp(p - (schemaProperties - 21) * 0.004 * (70 / (model.strength + 10)), 0.02, 0.99);
      const draw = rng() < 0.7 ? difficulty : rng();
      const completionTokens = Math.round(baseOutput * uniform(0.85, 1.15));
      const serviceMs = (inputTokens / model.prefillTps + completionTokens / model.generationTps) * 1000;
      return {
        success: draw < p,
        cost: (inputTokens * model.cost.per1kPromptTokens + completionTokens * model.cost.per1kCompletionTokens) / 1000,
        latencyMs: serviceMs * Math.exp(0.15 * gaussian(rng)),
        completionTokens,
      };
    });
    tasks.push({ id: `t${t}`, kind: spec.kind, features, outcomes });
  }
  return { source: `synthetic, seed ${seed}`, models, tasks };
}

// ------------------------------------------------------------------------------------------------ table from a file

function tableFromFile(path: string): Table {
  const text = readFileSync(path, "utf8");
  const rows = path.endsWith(".jsonl") || path.endsWith(".ndjson") ? parseJsonl(text) : parseCsv(text);
  const modelIds: string[] = [];
  const byTask = new Map<string, { first: Record<string, unknown>; rows: Map<string, Record<string, unknown>> }>();
  for (const row of rows) {
    const task = String(row.task ?? "");
    const model = String(row.model ?? "");
    if (task === "" || model === "") throw new Error(`${path}: every row needs task and model`);
    if (!modelIds.includes(model)) modelIds.push(model);
    let entry = byTask.get(task);
    if (entry === undefined) byTask.set(task, (entry = { first: row, rows: new Map() }));
    entry.rows.set(model, row);
  }
  const tasks: Task[] = [];
  const tokens = modelIds.map(() => 0);
  const costs = modelIds.map(() => 0);
  const successes = modelIds.map(() => 0);
  for (const [id, entry] of byTask) {
    const f = entry.first;
    const taskType = (TASK_TYPES as readonly string[]).includes(String(f.task_type)) ? (f.task_type as TaskType) : "chat";
    const inputTokens = num(f.input_tokens, 200);
    const features = featuresFromValues({
      taskType,
      inputTokens,
      schemaProperties: num(f.schema_properties, 0),
      schemaDepth: num(f.schema_depth, 0),
      nonAsciiShare: num(f.non_ascii, 0),
      items: num(f.items, 0),
    });
    const outcomes = modelIds.map((model, m): Outcome => {
      const row = entry.rows.get(model);
      if (row === undefined) throw new Error(`${path}: task ${id} has no row for model ${model}`);
      const outcome = { success: bool(row.success), cost: num(row.cost, Number.NaN), latencyMs: num(row.latency_ms, Number.NaN), completionTokens: num(row.output_tokens, 100) };
      if (!Number.isFinite(outcome.cost) || !Number.isFinite(outcome.latencyMs)) throw new Error(`${path}: task ${id}, model ${model}: cost and latency_ms must be numbers`);
      tokens[m]! += inputTokens + outcome.completionTokens;
      costs[m]! += outcome.cost;
      successes[m]! += outcome.success ? 1 : 0;
      return outcome;
    });
    tasks.push({ id, kind: typeof f.kind === "string" && f.kind !== "" ? f.kind : taskType, features, outcomes });
  }
  // A table carries costs, not price lists: each model's profile is its mean cost per 1k tokens in the table, as a
  // manifest would state it. "Strongest" is the model with the best success rate in the table.
  const models = modelIds.map((id, m): ModelInfo => {
    const per1k = tokens[m]! > 0 ? (costs[m]! / tokens[m]!) * 1000 : 0;
    return { id, cost: { unit: "table", per1kPromptTokens: per1k, per1kCompletionTokens: per1k }, strength: successes[m]! };
  });
  return { source: path, models, tasks };
}

function parseJsonl(text: string): Array<Record<string, unknown>> {
  return text.split("\n").filter((line) => line.trim() !== "").map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** RFC 4180 enough: commas, double-quoted fields with "" escapes, a header row. */
function parseCsv(text: string): Array<Record<string, unknown>> {
  const records: string[][] = [];
  let field = "";
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") record.push(field), (field = "");
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      record.push(field), (field = "");
      if (record.some((v) => v !== "")) records.push(record);
      record = [];
    } else field += c;
  }
  record.push(field);
  if (record.some((v) => v !== "")) records.push(record);
  const [header, ...rows] = records;
  if (header === undefined) return [];
  return rows.map((values) => Object.fromEntries(header.map((name, i) => [name.trim(), values[i]?.trim() ?? ""])));
}

function num(value: unknown, fallback: number): number {
  if (value === undefined || value === null || value === "") return fallback;
  const n = Number(value);
  return Number.isFinite(n) ? n : fallback;
}

function bool(value: unknown): boolean {
  return value === true || value === 1 || value === "1" || value === "true";
}

// --------------------------------------------------------------------------------------------------------- replay

const WEIGHTS = (() => {
  const sum = DEFAULT_WEIGHTS.quality + DEFAULT_WEIGHTS.cost + DEFAULT_WEIGHTS.latency;
  return { quality: DEFAULT_WEIGHTS.quality / sum, cost: DEFAULT_WEIGHTS.cost / sum, latency: DEFAULT_WEIGHTS.latency / sum };
})();

/** The default criteria's utility of each model's realised outcome on a task. */
function utilities(task: Task): number[] {
  let maxCost = 0;
  let maxLatency = 0;
  for (const o of task.outcomes) {
    maxCost = Math.max(maxCost, o.cost);
    maxLatency = Math.max(maxLatency, o.latencyMs);
  }
  return task.outcomes.map((o) =>
    WEIGHTS.quality * (o.success ? 1 : 0) - (maxCost > 0 ? (WEIGHTS.cost * o.cost) / maxCost : 0) - (maxLatency > 0 ? (WEIGHTS.latency * o.latencyMs) / maxLatency : 0));
}

interface Run {
  policy: string;
  /** Model index chosen per task. */
  choices: Int32Array;
  explored: number;
  cpuMs: number;
}

async function replay(table: Table, policy: SelectionPolicy): Promise<Run> {
  const router = new BiddingRouter({ store: new MemoryBiddingStore(), policy, saveEvery: 1000 });
  const candidates: Candidate[] = table.models.map((m) => ({
    id: m.id, cost: m.cost, contextLength: 1_000_000, parallel: 1, strength: m.strength, state: "ready", inFlight: 0, queued: 0,
  }));
  const index = new Map(table.models.map((m, i) => [m.id, i]));
  const choices = new Int32Array(table.tasks.length);
  let explored = 0;
  const started = process.cpuUsage();
  for (let t = 0; t < table.tasks.length; t++) {
    const task = table.tasks[t]!;
    const decision = router.decide({
      executionId: task.id,
      request: { kind: "task", text: "" },
      candidates,
      plan: singleTaskPlan({ text: "" }, task.features),
    });
    const m = index.get(decision.modelId)!;
    choices[t] = m;
    if (decision.assignments[0]!.mode === "explore") explored++;
    const outcome = task.outcomes[m]!;
    // The table's success stands in for the execution's validity check: every outcome counts as verified.
    await router.recordOutcome({
      executionId: task.id,
      modelId: decision.modelId,
      promptTokens: task.features.inputTokens,
      completionTokens: outcome.completionTokens,
      queueMs: 0,
      inferenceMs: outcome.latencyMs,
      schemaValid: outcome.success,
    });
  }
  const used = process.cpuUsage(started);
  return { policy: policy.name, choices, explored, cpuMs: (used.user + used.system) / 1000 };
}

interface Summary {
  quality: number;
  cost: number;
  lateQuality: number;
  lateCost: number;
  regret: Float64Array;
}

function summarise(table: Table, choose: (t: number) => number, bestByKind: Map<string, { mean: number[]; best: number }>): Summary {
  let successes = 0;
  let cost = 0;
  let lateSuccesses = 0;
  let lateCost = 0;
  const regret = new Float64Array(table.tasks.length);
  let cumulative = 0;
  for (let t = 0; t < table.tasks.length; t++) {
    const task = table.tasks[t]!;
    const m = choose(t);
    const outcome = task.outcomes[m]!;
    successes += outcome.success ? 1 : 0;
    cost += outcome.cost;
    if (t >= WARMUP) {
      lateSuccesses += outcome.success ? 1 : 0;
      lateCost += outcome.cost;
    }
    const context = bestByKind.get(task.kind)!;
    cumulative += context.mean[context.best]! - context.mean[m]!;
    regret[t] = cumulative;
  }
  const n = table.tasks.length;
  const late = Math.max(1, n - WARMUP);
  return { quality: successes / n, cost, lateQuality: lateSuccesses / late, lateCost, regret };
}

/** Mean utility of each model per kind over the whole table, and the best model of each kind. */
function hindsight(table: Table): Map<string, { mean: number[]; best: number }> {
  const sums = new Map<string, { sum: number[]; n: number }>();
  for (const task of table.tasks) {
    let entry = sums.get(task.kind);
    if (entry === undefined) sums.set(task.kind, (entry = { sum: table.models.map(() => 0), n: 0 }));
    const u = utilities(task);
    for (let m = 0; m < u.length; m++) entry.sum[m]! += u[m]!;
    entry.n++;
  }
  const result = new Map<string, { mean: number[]; best: number }>();
  for (const [kind, { sum, n }] of sums) {
    const mean = sum.map((s) => s / n);
    result.set(kind, { mean, best: mean.indexOf(Math.max(...mean)) });
  }
  return result;
}

function oracleChoices(table: Table): Int32Array {
  return Int32Array.from(table.tasks, (task) => {
    const u = utilities(task);
    return u.indexOf(Math.max(...u));
  });
}

function policies(seed: number): SelectionPolicy[] {
  return [
    new LinUcbPolicy({ ...(ALPHA === undefined ? {} : { alpha: ALPHA }), ...(RIDGE === undefined ? {} : { ridge: RIDGE }) }),
    new RandomPolicy(seededRng(seed * 7919)),
    new RoundRobinPolicy(),
    new CheapestPolicy(),
    new LowestLatencyPolicy(),
    new StrongestPolicy(),
  ];
}

const LABELS: Record<string, string> = {
  linucb: "engine (LinUCB)",
  random: "random",
  "round-robin": "round-robin",
  cheapest: "always-cheapest",
  "lowest-latency": "lowest-latency",
  strongest: "always-strongest",
  "best-per-kind": "best model per kind",
  oracle: "oracle (hindsight)",
};

interface SeedResult {
  seed: number;
  table: Table;
  /** Per kind: the hindsight-best model and the engine's choices over the last half of the tasks. */
  settled: string[];
  rows: Array<{ policy: string; summary: Summary; explored: number | null; cpuMs: number | null }>;
}

async function runTable(seed: number, table: Table): Promise<SeedResult> {
  const best = hindsight(table);
  const rows: SeedResult["rows"] = [];
  const settled: string[] = [];
  for (const policy of policies(seed)) {
    const run = await replay(table, policy);
    if (policy.name === "linucb") settled.push(...settledChoices(table, run.choices, best));
    rows.push({ policy: run.policy, summary: summarise(table, (t) => run.choices[t]!, best), explored: run.explored, cpuMs: run.cpuMs });
  }
  rows.push({ policy: "best-per-kind", summary: summarise(table, (t) => best.get(table.tasks[t]!.kind)!.best, best), explored: null, cpuMs: null });
  const oracle = oracleChoices(table);
  rows.push({ policy: "oracle", summary: summarise(table, (t) => oracle[t]!, best), explored: null, cpuMs: null });
  return { seed, table, rows, settled };
}

function settledChoices(table: Table, choices: Int32Array, best: Map<string, { mean: number[]; best: number }>): string[] {
  const counts = new Map<string, number[]>();
  for (let t = Math.floor(table.tasks.length / 2); t < table.tasks.length; t++) {
    const kind = table.tasks[t]!.kind;
    let c = counts.get(kind);
    if (c === undefined) counts.set(kind, (c = table.models.map(() => 0)));
    c[choices[t]!]! += 1;
  }
  return [...counts].map(([kind, c]) => {
    const total = c.reduce((a, b) => a + b, 0);
    const shares = c.map((n, m) => [n, m] as const).filter(([n]) => n > 0).sort((a, b) => b[0] - a[0])
      .map(([n, m]) => `${table.models[m]!.id} ${pct(n / total)}`);
    return `${kind}: best ${table.models[best.get(kind)!.best]!.id}; engine ${shares.join(", ")}`;
  });
}

/** Regret added in the second half ÷ regret in the first: about 1 for linear regret, well below 1 for sublinear. */
function growthRatio(regret: Float64Array): number {
  const half = regret[Math.floor(regret.length / 2) - 1]!;
  const end = regret[regret.length - 1]!;
  return half > 0 ? (end - half) / half : Number.NaN;
}

function printSeed(result: SeedResult): void {
  const strongest = result.rows.find((r) => r.policy === "strongest")!.summary;
  console.log(`\n   ${result.table.source}: ${result.table.tasks.length} tasks, ${result.table.models.length} models, warm-up ${WARMUP}`);
  console.log(`   ${"policy".padEnd(20)} ${"quality".padStart(8)} ${"cost".padStart(10)} ${"q÷strong".padStart(9)} ${"c÷strong".padStart(9)}   after warm-up: ${"q÷strong".padStart(8)} ${"c÷strong".padStart(8)}   ${"regret".padStart(8)} ${"2nd÷1st half".padStart(12)}  explored`);
  for (const row of result.rows) {
    const s = row.summary;
    const ratio = growthRatio(s.regret);
    // The oracle sees each task's outcomes first; regret against mean utilities says nothing about it.
    const regret = row.policy === "oracle" ? "—" : round(s.regret.at(-1)!, 1).toFixed(1);
    const growth = row.policy === "oracle" || Number.isNaN(ratio) ? "—" : round(ratio, 2).toFixed(2);
    console.log(
      `   ${LABELS[row.policy]!.padEnd(20)} ${pct(s.quality).padStart(8)} ${round(s.cost, 1).toFixed(1).padStart(10)} ${pct(s.quality / strongest.quality).padStart(9)} ${pct(s.cost / strongest.cost).padStart(9)}` +
        `                  ${pct(s.lateQuality / strongest.lateQuality).padStart(8)} ${pct(s.lateCost / strongest.lateCost).padStart(8)}   ${regret.padStart(8)} ${growth.padStart(12)}  ${row.explored === null ? "" : pct(row.explored / result.table.tasks.length)}`,
    );
  }
}

// ------------------------------------------------------------------------------------------------------------- SVG

const COLOURS = ["#d62728", "#7f7f7f", "#bcbd22", "#1f77b4", "#17becf", "#2ca02c", "#000000"];

/** All policies on one scale; with `only`, that policy alone on its own scale (the learner's curve is otherwise flat). */
function regretSvg(result: SeedResult, only?: string): string {
  const width = 760;
  const height = 420;
  const left = 60;
  const right = 180;
  const top = 30;
  const bottom = 40;
  const n = result.table.tasks.length;
  const rows = result.rows.filter((r) => r.policy !== "oracle" && (only === undefined || r.policy === only));
  const maxRegret = Math.max(1e-9, ...rows.map((r) => r.summary.regret.at(-1)!));
  const x = (t: number) => left + ((width - left - right) * t) / Math.max(1, n - 1);
  const y = (r: number) => height - bottom - ((height - top - bottom) * r) / maxRegret;
  const step = Math.max(1, Math.floor(n / 400));
  const lines = rows.map((row, i) => {
    const points: string[] = [];
    for (let t = 0; t < n; t += step) points.push(`${x(t).toFixed(1)},${y(row.summary.regret[t]!).toFixed(1)}`);
    points.push(`${x(n - 1).toFixed(1)},${y(row.summary.regret[n - 1]!).toFixed(1)}`);
    const colour = COLOURS[i % COLOURS.length]!;
    const labelY = top + 16 * i;
    return `<polyline fill="none" stroke="${colour}" stroke-width="${row.policy === "linucb" ? 2.5 : 1.2}" points="${points.join(" ")}"/>` +
      `<line x1="${width - right + 12}" y1="${labelY}" x2="${width - right + 32}" y2="${labelY}" stroke="${colour}" stroke-width="2"/>` +
      `<text x="${width - right + 38}" y="${labelY + 4}">${escapeXml(LABELS[row.policy]!)}</text>`;
  });
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) =>
    `<text x="${left - 6}" y="${y(f * maxRegret) + 4}" text-anchor="end">${round(f * maxRegret, 0)}</text>` +
    `<text x="${x(f * (n - 1))}" y="${height - bottom + 16}" text-anchor="middle">${Math.round(f * (n - 1))}</text>`);
  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">
<rect width="100%" height="100%" fill="white"/>
<text x="${left}" y="18" font-size="13">Cumulative regret vs best model per kind in hindsight — ${escapeXml(result.table.source)}</text>
<line x1="${left}" y1="${height - bottom}" x2="${width - right}" y2="${height - bottom}" stroke="black"/>
<line x1="${left}" y1="${top}" x2="${left}" y2="${height - bottom}" stroke="black"/>
<line x1="${x(WARMUP)}" y1="${top}" x2="${x(WARMUP)}" y2="${height - bottom}" stroke="#999" stroke-dasharray="4 3"/>
<text x="${(left + width - right) / 2}" y="${height - 6}" text-anchor="middle">task</text>
${ticks.join("\n")}
${lines.join("\n")}
</svg>
`;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

// ------------------------------------------------------------------------------------------------------ CPU cost

/** CPU µs of one bid + select among 10 candidates, median over batches, with a learner that has seen every model. */
function measureAuction(): { auction: number; decide: number; features: number } {
  const rng = seededRng(99);
  const candidates: Candidate[] = Array.from({ length: 10 }, (_, i) => ({
    id: `model-${i}`,
    cost: { unit: "compute-seconds", per1kPromptTokens: 0.05 * (i + 1), per1kCompletionTokens: 0.15 * (i + 1) },
    contextLength: 8192, parallel: 2, strength: i, state: "ready", inFlight: i % 3, queued: i % 2,
  }));
  const policy = new LinUcbPolicy();
  const estimates = new PerformanceEstimates();
  const contexts = KINDS.map((k) => featuresFromValues({ taskType: k.taskType, inputTokens: k.input[0] * 2, schemaProperties: k.schemaProperties?.[0] ?? 0 }));
  for (let i = 0; i < 5000; i++) {
    const f = contexts[i % contexts.length]!;
    const c = candidates[Math.floor(rng() * candidates.length)]!;
    policy.update(c.id, f.vector, rng() < 0.7 ? 1 : 0);
    estimates.observe(c.id, f, f.inputTokens, 100, 500 + rng() * 100);
  }
  const criteria = resolveCriteria({ request: { constraints: { maxLatencyMs: 60_000 } } });
  const router = new BiddingRouter({ store: new MemoryBiddingStore(), policy });
  const request = { kind: "task" as const, text: "Classify the sentiment of this review: the battery died after two days.", instructions: "Answer with one label." };

  const batch = (iterations: number, work: (i: number) => void): number => {
    const samples: number[] = [];
    for (let round = 0; round < 21; round++) {
      const started = process.cpuUsage();
      for (let i = 0; i < iterations; i++) work(i);
      const used = process.cpuUsage(started);
      samples.push((used.user + used.system) / iterations);
    }
    return percentile(samples, 50);
  };
  let sink = 0;
  const auction = batch(20_000, (i) => {
    sink += runAuction("task", contexts[i % contexts.length]!, undefined, candidates, criteria, policy, estimates).selection.index;
  });
  const decide = batch(5_000, (i) => {
    sink += router.decide({ executionId: `e${i}`, request, candidates }).assignments.length;
  });
  const features = batch(50_000, () => {
    sink += extractFeatures(request).inputTokens;
  });
  if (sink === -1) console.log(sink);
  return { auction, decide, features };
}

// ---------------------------------------------------------------------------------------------------------- main

function pct(x: number, digits = 1): string {
  return `${(100 * x).toFixed(digits)}%`;
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

function gaussian(rng: Rng): number {
  return Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}

async function main(): Promise<void> {
  const file = process.argv[2];
  console.log(`atomic routing bench — ${cpus()[0]?.model ?? "cpu"} × ${availableParallelism()}, node ${process.version}`);
  mkdirSync(OUT, { recursive: true });

  const tables = file === undefined
    ? SEEDS.map((seed) => ({ seed, table: syntheticTable(seed, TASKS) }))
    : [{ seed: 1, table: tableFromFile(file) }];
  console.log(`\n1. replay: ${file === undefined ? `synthetic tables, seeds ${SEEDS.join(", ")}` : file}`);
  const results: SeedResult[] = [];
  for (const { seed, table } of tables) {
    const result = await runTable(seed, table);
    results.push(result);
    printSeed(result);
    console.log(`   engine's choices in the second half, by kind:\n     ${result.settled.join("\n     ")}`);
    const name = file === undefined ? `seed${seed}` : "file";
    const svg = join(OUT, `regret-${name}.svg`);
    const engineSvg = join(OUT, `regret-${name}-engine.svg`);
    writeFileSync(svg, regretSvg(result));
    writeFileSync(engineSvg, regretSvg(result, "linucb"));
    console.log(`   regret curves: ${svg} (all policies), ${engineSvg} (engine alone)`);
  }

  console.log(`\n2. engine vs always-strongest after warm-up (target: quality ≥ ${pct(QUALITY_TARGET)}, cost ≤ ${pct(COST_TARGET)}; regret sublinear)`);
  let met = 0;
  const qualities: number[] = [];
  const costs: number[] = [];
  for (const result of results) {
    const engine = result.rows.find((r) => r.policy === "linucb")!.summary;
    const strongest = result.rows.find((r) => r.policy === "strongest")!.summary;
    const q = engine.lateQuality / strongest.lateQuality;
    const c = engine.lateCost / strongest.lateCost;
    const ratio = growthRatio(engine.regret);
    const ok = q >= QUALITY_TARGET && c <= COST_TARGET;
    if (ok) met++;
    qualities.push(q);
    costs.push(c);
    console.log(`   ${result.table.source.padEnd(22)} quality ${pct(q, 2)}   cost ${pct(c, 2)}   regret 2nd÷1st half ${round(ratio, 2)} (${ratio < 0.5 ? "sublinear" : ratio < 1 ? "slowing" : "not sublinear"})   ${ok ? "met" : "NOT met"}`);
  }
  console.log(`   target met on ${met} of ${results.length}; quality ${pct(Math.min(...qualities))}–${pct(Math.max(...qualities))}, cost ${pct(Math.min(...costs))}–${pct(Math.max(...costs))} of always-strongest`);

  console.log("\n3. CPU per routing step (median of 21 batches, process.cpuUsage)");
  const cpu = measureAuction();
  console.log(`   bid + select, 10 candidates (runAuction)           ${round(cpu.auction, 2)} µs   (target ≤ 50 µs)`);
  console.log(`   whole decide(): features, plan, auction, record    ${round(cpu.decide, 2)} µs`);
  console.log(`   features of a short request (extractFeatures)      ${round(cpu.features, 2)} µs`);
}

await main();
