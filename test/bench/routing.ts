/**
 * `npm run bench:routing [-- TABLE.csv|TABLE.jsonl] [flags]`: offline replay of model selection (issues 4 and 14).
 *
 * Each task of a table is offered to each policy in turn, through the same BiddingRouter the gateway uses (content
 * features, bids, criteria, selection, tracker, learner), and the policy learns only what it chose: the outcome of
 * the chosen model in the table, from an empty state.
 *
 * Tables: a file, or generated ones with known ground truth (`--tables`, default all three):
 *   synthetic   6 task kinds × 6 models, shape only (no prompt text): the issue-4 table
 *   exam        two models (strong 100× the weak one's price) on multi-subject exam questions (routing-tables.ts)
 *   math        the same two models on math word problems
 * Seeds: tables are generated per seed (`--seeds`, default 1,2,3); seeds 101–103 are the tuning seeds, the
 * defaults are never tuned on. `--shuffles N` (default 5) replays each two-model table in N seeded orders.
 *
 * Printed:
 *   every table: per policy — the engine (Thompson sampling on content, at the quality target), the issue-4 engine
 *     (LinUCB on shape, default weights), random, round-robin, cheapest, lowest-latency (fair: it measures every
 *     candidate before trusting its prior), strongest, best model per kind and the hindsight oracle — quality and
 *     cost relative to always-strongest overall and after the warm-up, regret, exploration; regret curves as SVG.
 *   two-model tables: the quality/strong-share curve of the engine (the quality target swept), of the length rule
 *     ("the longest prompts go to the strong model", its threshold swept), random (its probability swept) and the
 *     oracle, and of the engine's own rule fed the generated table's true probabilities (what the quality target and
 *     its calibration cost apart from learning); CPT(50 %) and CPT(80 %) — the share of strong calls needed to close
 *     that much of the quality gap between weak and strong — and the strong share needed for 95 % of the strong
 *     model's quality, each with its spread over the shuffles; the least margin by which the engine beats the length
 *     rule and random at every point of its curve; and the engine's learning curve per decile of the stream.
 *   CPU: content features of a 2 KB prompt; bid + select among 10 candidates with content features (median, p99).
 * Targets (issue 14): strong calls for 95 % of strong quality ≤ 50 % (exam), ≤ 60 % (math), spread over 5 shuffles
 * ≤ 5 points, above the length rule and random everywhere; synthetic ≥ 95 % quality at ≤ 40 % cost; bid + select
 * ≤ 50 µs p99; features ≤ 30 µs. Printed, never asserted.
 *
 * Flags: --tables synthetic,exam,math   --seeds 1,2,3   --shuffles 5   --tasks N (synthetic, default 10000)
 *        --quality-target 0.95   --weights Q,C,L (the engine chooses by weights instead)   --criteria JSON
 *        --policy logistic|linucb   --warmup N (default 10 % of the table)   --out DIR
 *        --features hashed|embedding|none   (embedding: the prompts embedded by the model family's embedding model,
 *          as the gateway's `bidding.features: embedding` does; --family MANIFEST, default .tools/models/manifest.json;
 *          vectors cached in --out)
 *        --shadow RATE (default 1: the curves add the engine with shadow runs at that rate; 0 leaves them out)
 *        --verdict check|feedback   (check, the default: a task's score is the answer's validity check, graded ones
 *          feedback; feedback: every answer arrives valid and its score comes after as feedback, as free text judged
 *          by a site's checks or raters is learned)
 *        --orders N   (default 1: the table's own order) the engine and LinUCB also replayed in N seeded orders of
 *          every table: mean and range of quality and cost after the warm-up (a small table's one order is noisy)
 *        --history SHARE   (default 0) two-model tables: that share of the tasks, drawn at random, is a site's
 *          history the engine is taught first (both models' outcomes, as `atomic bidding train` teaches a table); the
 *          curves and every baseline are measured on the other tasks — an offline-trained router's protocol
 *
 * Table format, one row per (task, model) — CSV with a header row, or JSONL with one object per line:
 *   task             task id; a task's rows may come in any order, tasks replay in order of first appearance
 *   model            model id; every task must list the same models (of two, the one with the higher mean score
 *                    is the strong one in the curves, whichever the rows name first)
 *   score            0…1, how good this model's output was; or
 *   success          1/0 or true/false (score 1/0)
 *   cost             what running it cost, in any one unit shared by all rows
 *   latency_ms       how long it took (optional: a table without it replays every model as equally fast)
 *   optional, per task (read from its first row):
 *   prompt           the request's text: the engine reads its content
 *   kind             a label for the context regret is measured in (default: task_type)
 *   task_type        chat | completion | structured | extraction | classification | summarization (default chat)
 *   input_tokens     prompt tokens (default: estimated from the prompt, else 200)
 *   schema_properties, schema_depth, items   (default 0)
 *   non_ascii        share of non-ASCII characters, 0..1 (default 0)
 *   optional, per row:
 *   output_tokens    completion tokens (default 100)
 *
 * Regret is measured against the best fixed model per kind in hindsight (pseudo-regret on the table's mean
 * utilities), with utility = the default weights' quality − cost − latency, cost and latency divided by the
 * largest among the task's models. The oracle picks, per task, the best-utility model among those that did best:
 * an upper bound no policy reaches without seeing outcomes first.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { runAuction } from "../../src/bidding/auction.js";
import { HashedNgramFeaturizer } from "../../src/bidding/content/hashed.js";
import { NoContentFeaturizer, type ContentFeaturizer } from "../../src/bidding/content/interface.js";
import { CriteriaSchema, DEFAULT_WEIGHTS, resolveCriteria, type CriteriaInput } from "../../src/bidding/criteria.js";
import { PerformanceEstimates } from "../../src/bidding/estimates.js";
import { featuresFromValues, type TaskType } from "../../src/bidding/features.js";
import type { Candidate } from "../../src/bidding/request.js";
import { BiddingRouter, defaultQualityTarget } from "../../src/bidding/router.js";
import { CheapestPolicy, LowestLatencyPolicy, RandomPolicy, RoundRobinPolicy, StrongestPolicy } from "../../src/bidding/selection/baselines.js";
import type { SelectionPolicy } from "../../src/bidding/selection/interface.js";
import { LinUcbPolicy } from "../../src/bidding/selection/linucb.js";
import { LogisticThompsonPolicy } from "../../src/bidding/selection/logistic.js";
import { MemoryBiddingStore } from "../../src/bidding/store/memory.js";
import { seededRng, type Rng } from "../../src/util/rng.js";
import { KnownProbabilitiesPolicy } from "./known-probabilities.js";
import { operatingPoint, replay, shuffled, splitTable, tableFromFile, twoModelTable, weakFirst, withContent, type ModelInfo, type Outcome, type Point, type Table, type Task } from "./routing-replay.js";
import { openTableEmbedder, type TableEmbedder } from "./routing-embeddings.js";
import { examTable, mathTable } from "./routing-tables.js";
import { percentile, round } from "./stats.js";

const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    tables: { type: "string", default: "synthetic,exam,math" },
    seeds: { type: "string", default: process.env.BENCH_ROUTING_SEEDS ?? "1,2,3" },
    shuffles: { type: "string", default: "5" },
    tasks: { type: "string", default: process.env.BENCH_ROUTING_TASKS ?? "10000" },
    warmup: { type: "string" },
    "quality-target": { type: "string" },
    weights: { type: "string" },
    criteria: { type: "string" },
    policy: { type: "string", default: "logistic" },
    features: { type: "string", default: "hashed" },
    /** For --features embedding: the model family's manifest, whose embedding model embeds the prompts. */
    family: { type: "string", default: ".tools/models/manifest.json" },
    out: { type: "string", default: process.env.BENCH_ROUTING_OUT ?? join(tmpdir(), "atomic-bench-routing") },
    targets: { type: "string" },
    shadow: { type: "string", default: "1" },
    verdict: { type: "string", default: "check" },
    orders: { type: "string", default: "1" },
    history: { type: "string", default: "0" },
    sections: { type: "string", default: "replay,curves,cpu" },
    /** Tuning only: the learner's and the featurizer's options as JSON (see selection/logistic.ts, content/hashed.ts). */
    learner: { type: "string", default: "{}" },
    hashed: { type: "string", default: "{}" },
  },
});
const SECTIONS = flags.sections.split(",");
const LEARNER_OPTIONS = JSON.parse(flags.learner) as Record<string, number>;
const HASHED_OPTIONS = JSON.parse(flags.hashed) as Record<string, never>;
const SEEDS = flags.seeds.split(",").map(Number);
const SHUFFLES = Number(flags.shuffles);
const SHADOW_RATE = Number(flags.shadow);
if (flags.verdict !== "check" && flags.verdict !== "feedback") throw new Error(`--verdict takes check or feedback; got ${flags.verdict}`);
const VERDICT = flags.verdict;
const HISTORY_SHARE = Number(flags.history);
if (!(HISTORY_SHARE >= 0 && HISTORY_SHARE < 1)) throw new Error(`--history takes a share of a table from 0 to below 1; got ${flags.history}`);
const ORDERS = Number(flags.orders);
if (!Number.isInteger(ORDERS) || ORDERS < 1) throw new Error(`--orders takes a whole number of at least 1; got ${flags.orders}`);
const TASKS = Number(flags.tasks);
const OUT = flags.out;
/**
 * The engine's criteria: the request level of every replayed decision. Nothing given: the router chooses as the
 * gateway does with this learner unless configured (defaultQualityTarget: a target for the logistic learner, the
 * default weights for LinUCB).
 */
const ENGINE_CRITERIA: CriteriaInput = CriteriaSchema.parse({
  ...(flags.criteria === undefined ? {} : JSON.parse(flags.criteria)),
  ...(flags["quality-target"] === undefined ? {} : { qualityTarget: Number(flags["quality-target"]) }),
  ...(flags.weights === undefined ? {} : { weights: weightsOf(flags.weights) }),
});
const QUALITY_TARGET = 0.95;
const COST_TARGET = 0.4;
/** Quality targets the engine's curve is drawn through, on two-model tables. */
const TARGETS = flags.targets === undefined ? [0, 0.6, 0.75, 0.85, 0.9, 0.93, 0.95, 0.97, 0.99, 1] : flags.targets.split(",").map(Number);
let WARMUP = 1000;

function weightsOf(text: string): { quality: number; cost: number; latency: number } {
  const [quality, cost, latency] = text.split(",").map(Number);
  return { quality: quality ?? 1, cost: cost ?? 0, latency: latency ?? 0 };
}

// ---------------------------------------------------------------------------------------------------- the table

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
        score: draw < p ? 1 : 0,
        cost: (inputTokens * model.cost.per1kPromptTokens + completionTokens * model.cost.per1kCompletionTokens) / 1000,
        latencyMs: serviceMs * Math.exp(0.15 * gaussian(rng)),
        completionTokens,
      };
    });
    tasks.push({ id: `t${t}`, kind: spec.kind, prompt: "", features, outcomes });
  }
  return { source: `synthetic, seed ${seed}`, models, tasks };
}

// ---------------------------------------------------------------------------------------------- generated two-model

/** A generated two-model table (weak first, strong second), each model priced per 1k tokens as in a manifest. */

// --------------------------------------------------------------------------------------------------------- replay

const WEIGHTS = (() => {
  const sum = DEFAULT_WEIGHTS.quality + DEFAULT_WEIGHTS.cost + DEFAULT_WEIGHTS.latency;
  return { quality: DEFAULT_WEIGHTS.quality / sum, cost: DEFAULT_WEIGHTS.cost / sum, latency: DEFAULT_WEIGHTS.latency / sum };
})();

/** The default weights' utility of each model's realised outcome on a task. */
function utilities(task: Task): number[] {
  let maxCost = 0;
  let maxLatency = 0;
  for (const o of task.outcomes) {
    maxCost = Math.max(maxCost, o.cost);
    maxLatency = Math.max(maxLatency, o.latencyMs);
  }
  return task.outcomes.map((o) =>
    WEIGHTS.quality * o.score - (maxCost > 0 ? (WEIGHTS.cost * o.cost) / maxCost : 0) - (maxLatency > 0 ? (WEIGHTS.latency * o.latencyMs) / maxLatency : 0));
}

interface Engine {
  label: string;
  policy: () => SelectionPolicy;
  criteria: CriteriaInput;
}

/** The engine as configured by the flags, at a quality target (or its own criteria), with a seeded policy. */
function engine(featurizer: ContentFeaturizer, seed: number, criteria: CriteriaInput = ENGINE_CRITERIA): Engine {
  return { label: "engine", policy: () => enginePolicy(featurizer.dimension, seed), criteria };
}

function enginePolicy(contentDimension: number, seed: number): SelectionPolicy {
  return flags.policy === "linucb"
    ? new LinUcbPolicy()
    : new LogisticThompsonPolicy({ ...LEARNER_OPTIONS, contentDimension, rng: seededRng(seed * 7919 + 17) });
}

interface Summary {
  quality: number;
  cost: number;
  lateQuality: number;
  lateCost: number;
  regret: Float64Array;
}

/** Over the tasks in replay order: after the warm-up is after the first WARMUP tasks of that order. */
function summarise(table: Table, order: readonly number[], choose: (t: number) => number, bestByKind: Map<string, { mean: number[]; best: number }>): Summary {
  let quality = 0;
  let cost = 0;
  let lateQuality = 0;
  let lateCost = 0;
  const regret = new Float64Array(order.length);
  let cumulative = 0;
  for (let step = 0; step < order.length; step++) {
    const t = order[step]!;
    const task = table.tasks[t]!;
    const m = choose(t);
    const outcome = task.outcomes[m]!;
    quality += outcome.score;
    cost += outcome.cost;
    if (step >= WARMUP) {
      lateQuality += outcome.score;
      lateCost += outcome.cost;
    }
    const context = bestByKind.get(task.kind)!;
    cumulative += context.mean[context.best]! - context.mean[m]!;
    regret[step] = cumulative;
  }
  const n = order.length;
  return { quality: quality / n, cost, lateQuality: lateQuality / Math.max(1, n - WARMUP), lateCost, regret };
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

function baselines(seed: number): SelectionPolicy[] {
  return [
    new LinUcbPolicy(),
    new RandomPolicy(seededRng(seed * 7919)),
    new RoundRobinPolicy(),
    new CheapestPolicy(),
    new LowestLatencyPolicy(),
    new StrongestPolicy(),
  ];
}

/** The quality target the engine chooses by, given or its learner's default; null: weights. */
const ENGINE_TARGET = typeof ENGINE_CRITERIA.qualityTarget === "number" ? ENGINE_CRITERIA.qualityTarget
  : ENGINE_CRITERIA.weights === undefined ? defaultQualityTarget(enginePolicy(0, 0)) : null;
const ENGINE_RULE = ENGINE_TARGET === null ? "weights" : `target ${ENGINE_TARGET}`;

const LABELS: Record<string, string> = {
  engine: `engine (${ENGINE_RULE})`,
  linucb: "issue-4 LinUCB",
  random: "random",
  "round-robin": "round-robin",
  cheapest: "always-cheapest",
  "lowest-latency": "lowest-latency",
  strongest: "always-strongest",
  "best-per-kind": "best model per kind",
  oracle: "oracle (hindsight)",
};

interface SeedResult {
  table: Table;
  /** Per kind: the hindsight-best model and the engine's choices over the last half of the tasks. */
  settled: string[];
  rows: Array<{ policy: string; summary: Summary; explored: number | null }>;
}

async function runTable(seed: number, table: Table, featurizer: ContentFeaturizer): Promise<SeedResult> {
  const best = hindsight(table);
  const order = shuffled(table.tasks.length, 0);
  const rows: SeedResult["rows"] = [];
  const configured = engine(featurizer, seed);
  const engineRun = await replay(table, order, configured.policy(), configured.criteria, featurizer, "engine", { verdict: VERDICT });
  rows.push({ policy: "engine", summary: summarise(table, order, (t) => engineRun.choices[t]!, best), explored: engineRun.explored });
  const settled = settledChoices(table, engineRun.choices, best);
  for (const policy of baselines(seed)) {
    // Each by its own default criteria: the issue-4 engine (LinUCB) by the default weights, the fixed rules by any.
    const run = await replay(table, order, policy, {}, new NoContentFeaturizer(), policy.name, { verdict: VERDICT });
    rows.push({ policy: policy.name, summary: summarise(table, order, (t) => run.choices[t]!, best), explored: run.explored });
  }
  rows.push({ policy: "best-per-kind", summary: summarise(table, order, (t) => best.get(table.tasks[t]!.kind)!.best, best), explored: null });
  const oracle = oracleChoices(table);
  rows.push({ policy: "oracle", summary: summarise(table, order, (t) => oracle[t]!, best), explored: null });
  return { table, rows, settled };
}

function settledChoices(table: Table, choices: Int32Array, best: Map<string, { mean: number[]; best: number }>): string[] {
  const counts = new Map<string, number[]>();
  for (let t = Math.floor(table.tasks.length / 2); t < table.tasks.length; t++) {
    const kind = table.tasks[t]!.kind;
    let c = counts.get(kind);
    if (c === undefined) counts.set(kind, (c = table.models.map(() => 0)));
    c[choices[t]!]! += 1;
  }
  return [...counts].slice(0, 12).map(([kind, c]) => {
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

/** The engine and LinUCB over ORDERS seeded orders of a table: quality and cost after the warm-up, mean and range. */
async function overOrders(seed: number, table: Table, featurizer: ContentFeaturizer): Promise<void> {
  const best = hindsight(table);
  const strongest = table.models.reduce((top, m, i) => (m.strength > table.models[top]!.strength ? i : top), 0);
  const runs = { engine: [] as Summary[], linucb: [] as Summary[], strongest: [] as Summary[] };
  for (let k = 1; k <= ORDERS; k++) {
    const order = shuffled(table.tasks.length, 7000 + k);
    const configured = engine(featurizer, seed * 100 + k);
    const engineRun = await replay(table, order, configured.policy(), configured.criteria, featurizer, "engine", { verdict: VERDICT });
    runs.engine.push(summarise(table, order, (t) => engineRun.choices[t]!, best));
    const linucbRun = await replay(table, order, new LinUcbPolicy(), {}, new NoContentFeaturizer(), "linucb", { verdict: VERDICT });
    runs.linucb.push(summarise(table, order, (t) => linucbRun.choices[t]!, best));
    runs.strongest.push(summarise(table, order, () => strongest, best));
  }
  const spread = (values: number[], digits = 1) => `${pct(mean(values), digits)} (${pct(Math.min(...values), digits)}–${pct(Math.max(...values), digits)})`;
  console.log(`   over ${ORDERS} orders, after the first ${WARMUP} tasks of each: quality (mean, range), cost ÷ always-strongest`);
  for (const [label, summaries] of [[LABELS.engine!, runs.engine], [LABELS.linucb!, runs.linucb], ["always-strongest", runs.strongest]] as const) {
    const costs = summaries.map((s, i) => s.lateCost / runs.strongest[i]!.lateCost);
    console.log(`     ${label.padEnd(22)} ${spread(summaries.map((s) => s.lateQuality))}   ${spread(costs)}`);
  }
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

// ------------------------------------------------------------------------------------------------- two-model curves

/** A point of a quality/strong-share curve: the share of tasks sent to the strong model and the mean score. */
/** Always-weak and always-strong quality, and where the 50 %, 80 % and "95 % of strong" levels lie. */
interface Levels {
  weak: number;
  strong: number;
}

function levelsOf(table: Table): Levels {
  const mean = (m: number) => table.tasks.reduce((sum, task) => sum + task.outcomes[m]!.score, 0) / table.tasks.length;
  return { weak: mean(0), strong: mean(1) };
}

/** The least strong share at which the curve (piecewise linear through its points, sorted by share) reaches `quality`. */
function shareFor(points: readonly Point[], quality: number): number {
  const sorted = [...points].sort((a, b) => a.share - b.share);
  for (let i = 0; i < sorted.length; i++) {
    const p = sorted[i]!;
    if (p.quality >= quality) {
      if (i === 0) return p.share;
      const q = sorted[i - 1]!;
      if (q.quality >= quality) return q.share;
      return q.share + ((quality - q.quality) / (p.quality - q.quality)) * (p.share - q.share);
    }
  }
  return Number.NaN;
}

/** The curve's quality at a strong share, interpolated between its points (upper envelope of the points up to it). */
function qualityAt(points: readonly Point[], share: number): number {
  const sorted = [...points].sort((a, b) => a.share - b.share);
  let best = -Infinity;
  for (let i = 0; i < sorted.length; i++) {
    const p = sorted[i]!;
    if (p.share <= share) best = Math.max(best, p.quality);
    else {
      const q = sorted[i - 1];
      if (q !== undefined) best = Math.max(best, q.quality + ((share - q.share) / (p.share - q.share)) * (p.quality - q.quality));
      break;
    }
  }
  return best;
}

function randomCurve(levels: Levels): Point[] {
  return Array.from({ length: 21 }, (_, i) => ({ share: i / 20, quality: levels.weak + (i / 20) * (levels.strong - levels.weak) }));
}

/** Sends the tasks ranked highest by `key` to the strong model, for every share (the rule's threshold swept). */
function rankCurve(table: Table, key: (task: Task) => number, value: (task: Task, strong: boolean) => number): Point[] {
  const ranked = [...table.tasks].sort((a, b) => key(b) - key(a));
  const n = ranked.length;
  let quality = ranked.reduce((sum, task) => sum + value(task, false), 0);
  const points: Point[] = [{ share: 0, quality: quality / n }];
  const step = Math.max(1, Math.floor(n / 100));
  for (let i = 0; i < n; i++) {
    quality += value(ranked[i]!, true) - value(ranked[i]!, false);
    if ((i + 1) % step === 0 || i === n - 1) points.push({ share: (i + 1) / n, quality: quality / n });
  }
  return points;
}

const realised = (task: Task, strong: boolean) => task.outcomes[strong ? 1 : 0]!.score;

interface CurveStats {
  cpt50: number;
  cpt80: number;
  share95: number;
}

function curveStats(points: readonly Point[], levels: Levels): CurveStats {
  const gap = levels.strong - levels.weak;
  return {
    cpt50: shareFor(points, levels.weak + 0.5 * gap),
    cpt80: shareFor(points, levels.weak + 0.8 * gap),
    share95: shareFor(points, 0.95 * levels.strong),
  };
}

/**
 * The most any router can get from the text of a generated table: tasks ranked by the true gap averaged over all
 * tasks whose prompts show the same cues, known in hindsight. A learner starting from empty stays above it.
 */
function visibleGap(table: Table): (task: Task) => number {
  const groups = new Map<string, { gap: number; n: number }>();
  for (const task of table.tasks) {
    const group = groups.get(task.cues!) ?? { gap: 0, n: 0 };
    group.gap += task.truth![1]! - task.truth![0]!;
    group.n += 1;
    groups.set(task.cues!, group);
  }
  return (task) => {
    const group = groups.get(task.cues!)!;
    return group.gap / group.n;
  };
}

/**
 * What a router that knew which cues matter (and nothing else of the text) could learn as the tasks come: each task
 * ranked by the gap between the two models' success rates so far on earlier tasks with the same cues, both models'
 * outcomes taught (full feedback). The finite-data counterpart of visibleGap: the distance between the two is
 * what learning from this many tasks costs any router, before any cost of reading words rather than cues.
 */
function cuesLearnedGap(table: Table): (task: Task) => number {
  const seen = new Map<string, { weak: number; strong: number; n: number }>();
  const keys = new Map<Task, number>();
  for (const task of table.tasks) {
    const cell = seen.get(task.cues!) ?? { weak: 0, strong: 0, n: 0 };
    // A Beta(1, 1) prior on each rate: an unseen cell ranks in the middle.
    keys.set(task, (cell.strong + 1) / (cell.n + 2) - (cell.weak + 1) / (cell.n + 2));
    cell.weak += task.outcomes[0]!.score;
    cell.strong += task.outcomes[1]!.score;
    cell.n += 1;
    seen.set(task.cues!, cell);
  }
  return (task) => keys.get(task)!;
}

async function twoModelCurves(table: Table, seed: number, featurizer: ContentFeaturizer, history?: Table): Promise<void> {
  const levels = levelsOf(table);
  const n = table.tasks.length;
  const [weak, strong] = table.models;
  console.log(`\n   ${table.source}: ${n} tasks; always-weak (${weak!.id}) ${pct(levels.weak)}, always-strong (${strong!.id}) ${pct(levels.strong)}; ` +
    `95 % of strong = ${pct(0.95 * levels.strong)}; ${SHUFFLES} shuffles` +
    (history === undefined ? "" : `; the engine first taught both models' outcomes on ${history.tasks.length} other tasks of the table (--history), every figure on the rest`));
  const engineCurves: Point[][] = [];
  const deciles: Array<Array<{ share: number; ratio: number }>> = [];
  const atTarget: Point[] = [];
  for (let shuffle = 1; shuffle <= SHUFFLES; shuffle++) {
    const order = shuffled(n, seed * 1000 + shuffle);
    const points: Point[] = [];
    for (const target of TARGETS) {
      const configured = engine(featurizer, seed * 100 + shuffle, { ...ENGINE_CRITERIA, qualityTarget: target });
      const run = await replay(table, order, configured.policy(), configured.criteria, featurizer, "engine", { verdict: VERDICT, history });
      points.push(operatingPoint(table, run.choices));
      if (target === QUALITY_TARGET) {
        atTarget.push(points.at(-1)!);
        deciles.push(decileCurve(table, order, run.choices));
      }
    }
    engineCurves.push(points);
  }
  // The engine taught both models' outcomes on every task (first shuffle): what seeing only the chosen one costs.
  const fullOrder = shuffled(n, seed * 1000 + 1);
  const full: Point[] = [];
  for (const target of TARGETS) {
    const configured = engine(featurizer, seed * 100 + 1, { ...ENGINE_CRITERIA, qualityTarget: target });
    const run = await replay(table, fullOrder, configured.policy(), configured.criteria, featurizer, "engine", { fullFeedback: true, verdict: VERDICT, history });
    full.push(operatingPoint(table, run.choices));
  }
  // With shadow runs (src/bidding/shadow.ts): the cheap model also answers a share of the strong-routed tasks.
  const shadowed: Point[] = [];
  if (SHADOW_RATE > 0) {
    for (const target of TARGETS) {
      const configured = engine(featurizer, seed * 100 + 1, { ...ENGINE_CRITERIA, qualityTarget: target });
      const run = await replay(table, fullOrder, configured.policy(), configured.criteria, featurizer, "engine", { shadowRate: SHADOW_RATE, seed: seed * 100 + 1, verdict: VERDICT, history });
      shadowed.push(operatingPoint(table, run.choices));
    }
  }
  const length = rankCurve(table, (task) => task.features.inputTokens, realised);
  const random = randomCurve(levels);
  const oracle = rankCurve(table, (task) => task.outcomes[1]!.score - task.outcomes[0]!.score, realised);
  const ideal = table.tasks[0]?.truth === undefined ? null : rankCurve(table, (task) => task.truth![1]! - task.truth![0]!, realised);
  // The engine's own rule choosing by those true probabilities, in the first shuffle's order: what the quality
  // target and its online calibration cost when nothing has to be learned.
  const idealByRule: Point[] = [];
  if (ideal !== null) {
    for (const target of TARGETS) {
      const run = await replay(table, fullOrder, new KnownProbabilitiesPolicy(table), { ...ENGINE_CRITERIA, qualityTarget: target }, featurizer, "known", { verdict: VERDICT });
      idealByRule.push(operatingPoint(table, run.choices));
    }
  }
  const visible = table.tasks[0]?.cues === undefined ? null : rankCurve(table, visibleGap(table), realised);
  const cuesLearned = table.tasks[0]?.cues === undefined ? null : rankCurve(table, cuesLearnedGap(table), realised);

  const stats = engineCurves.map((points) => curveStats(points, levels));
  const spread = (key: keyof CurveStats) => {
    const values = stats.map((s) => s[key]);
    return `${pct(mean(values))} (${pct(Math.min(...values))}–${pct(Math.max(...values))}, spread ${points(Math.max(...values) - Math.min(...values))})`;
  };
  const fixed = (curve: Point[]) => curveStats(curve, levels);
  const line = (label: string, s: CurveStats) => `   ${label.padEnd(26)} ${pct(s.cpt50).padStart(7)} ${pct(s.cpt80).padStart(9)} ${pct(s.share95).padStart(14)}`;
  console.log(`   ${"strong-call share needed".padEnd(26)} ${"CPT(50%)".padStart(7)} ${"CPT(80%)".padStart(9)} ${"95% of strong".padStart(14)}`);
  console.log(`   ${"engine (mean of shuffles)".padEnd(26)} ${spread("cpt50")}  ${spread("cpt80")}  ${spread("share95")}`);
  if (SHADOW_RATE > 0) console.log(line(`engine + shadow ${SHADOW_RATE}`, fixed(shadowed)));
  console.log(line("engine, full feedback", fixed(full)));
  console.log(line("length rule", fixed(length)));
  console.log(line("random", fixed(random)));
  if (cuesLearned !== null) console.log(line("text's cues, learned", fixed(cuesLearned)));
  if (visible !== null) console.log(line("text's cues (hindsight)", fixed(visible)));
  if (ideal !== null) console.log(line("ideal (true probabilities)", fixed(ideal)));
  if (ideal !== null) console.log(line("ideal, by the engine's rule", fixed(idealByRule)));
  console.log(line("oracle (hindsight)", fixed(oracle)));

  // The engine's mean curve against the baselines at each of its own points.
  let marginLength = Infinity;
  let marginRandom = Infinity;
  const curve: string[] = [];
  for (let i = 0; i < TARGETS.length; i++) {
    const share = mean(engineCurves.map((c) => c[i]!.share));
    const quality = mean(engineCurves.map((c) => c[i]!.quality));
    if (share > 0.01 && share < 0.99) {
      marginLength = Math.min(marginLength, quality - qualityAt(length, share));
      marginRandom = Math.min(marginRandom, quality - qualityAt(random, share));
    }
    curve.push(`${TARGETS[i]}: ${pct(share, 0)}→${pct(quality / levels.strong, 1)}`);
  }
  console.log(`   engine curve (target: strong share → quality ÷ strong): ${curve.join("  ")}`);
  console.log(`   least margin over the length rule ${points(marginLength)}, over random ${points(marginRandom)} (quality points at the engine's shares; > 0: above everywhere)`);
  const shares = atTarget.map((p) => p.share);
  const ratios = atTarget.map((p) => p.quality / levels.strong);
  console.log(`   at target ${QUALITY_TARGET}: strong share ${pct(mean(shares))} (spread ${points(Math.max(...shares) - Math.min(...shares))}), ` +
    `quality ${pct(mean(ratios))} of strong (spread ${points(Math.max(...ratios) - Math.min(...ratios))})`);
  const d = deciles[0]!;
  console.log(`   learning curve at ${QUALITY_TARGET}, first shuffle, per decile (strong share / quality ÷ strong): ${d.map((x) => `${pct(x.share, 0)}/${pct(x.ratio, 0)}`).join("  ")}`);
}

function decileCurve(table: Table, order: readonly number[], choices: Int32Array): Array<{ share: number; ratio: number }> {
  const out: Array<{ share: number; ratio: number }> = [];
  for (let d = 0; d < 10; d++) {
    const slice = order.slice(Math.floor((d * order.length) / 10), Math.floor(((d + 1) * order.length) / 10));
    let strong = 0;
    let quality = 0;
    let best = 0;
    for (const t of slice) {
      strong += choices[t]!;
      quality += table.tasks[t]!.outcomes[choices[t]!]!.score;
      best += table.tasks[t]!.outcomes[1]!.score;
    }
    out.push({ share: strong / slice.length, ratio: best > 0 ? quality / best : Number.NaN });
  }
  return out;
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
    return `<polyline fill="none" stroke="${colour}" stroke-width="${row.policy === "engine" ? 2.5 : 1.2}" points="${points.join(" ")}"/>` +
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

/** A prompt of about 2 KB in the exam tables' style. */
function longPrompt(): string {
  let text = "";
  for (const item of examTable(7, 40)) {
    text += `${item.prompt}\n`;
    if (text.length >= 2048) break;
  }
  return text.slice(0, 2048);
}

/** CPU µs per call, median of 21 batches; and wall-clock p99 of single calls (what one request waits). */
/** npm test's smoke run: a tenth of the iterations, enough to reach the end of the section. */
const CPU_SCALE = process.env.BENCH_SMOKE === "1" ? 0.1 : 1;

function timing(batchIterations: number, work: (i: number) => void): { median: number; p99: number } {
  const iterations = Math.ceil(batchIterations * CPU_SCALE);
  const batches: number[] = [];
  for (let round = 0; round < 21; round++) {
    const started = process.cpuUsage();
    for (let i = 0; i < iterations; i++) work(i);
    const used = process.cpuUsage(started);
    batches.push((used.user + used.system) / iterations);
  }
  const singles: number[] = [];
  for (let i = 0; i < 20_000 * CPU_SCALE; i++) {
    const started = process.hrtime.bigint();
    work(i);
    singles.push(Number(process.hrtime.bigint() - started) / 1000);
  }
  return { median: percentile(batches, 50), p99: percentile(singles, 99) };
}

function measureCpu(): { features: ReturnType<typeof timing>; withChars: ReturnType<typeof timing>; auction: ReturnType<typeof timing>; decide: ReturnType<typeof timing>; nnz: number } {
  const rng = seededRng(99);
  const featurizer = new HashedNgramFeaturizer(HASHED_OPTIONS);
  const candidates: Candidate[] = Array.from({ length: 10 }, (_, i) => ({
    id: `model-${i}`,
    cost: { unit: "compute-seconds", per1kPromptTokens: 0.05 * (i + 1), per1kCompletionTokens: 0.15 * (i + 1) },
    contextLength: 8192, parallel: 2, strength: i, state: "ready", inFlight: i % 3, queued: i % 2,
  }));
  const policy = new LogisticThompsonPolicy({ contentDimension: featurizer.dimension, rng: seededRng(5) });
  const estimates = new PerformanceEstimates();
  const items = examTable(11, 2000);
  const contexts = items.map((item) => featuresFromValues({ taskType: "chat", inputTokens: item.inputTokens }, featurizer.featurize({ kind: "chat", text: item.prompt })));
  for (let i = 0; i < 5000; i++) {
    const f = contexts[i % contexts.length]!;
    const c = candidates[Math.floor(rng() * candidates.length)]!;
    policy.update(c.id, f, rng() < 0.7 ? 1 : 0);
    estimates.observe(c.id, f, f.inputTokens, 100, 500 + rng() * 100);
  }
  const criteria = resolveCriteria({ request: { constraints: { maxLatencyMs: 60_000 } } });
  const router = new BiddingRouter({ store: new MemoryBiddingStore(), policy, featurizer });
  const prompt = longPrompt();
  const long = featuresFromValues({ taskType: "chat", inputTokens: prompt.length / 4 }, featurizer.featurize({ kind: "chat", text: prompt }));
  const request = { kind: "task" as const, text: items[0]!.prompt, instructions: "Answer with the letter of the right option." };
  let sink = 0;
  const features = timing(2000, () => {
    sink += featurizer.featurize({ kind: "chat", text: prompt }).indices.length;
  });
  // The former default, measured in the same run: character 3- to 5-grams next to the words.
  const charFeaturizer = new HashedNgramFeaturizer({ ...HASHED_OPTIONS, charRange: [3, 5] });
  const withChars = timing(2000, () => {
    sink += charFeaturizer.featurize({ kind: "chat", text: prompt }).indices.length;
  });
  const auction = timing(5000, (i) => {
    sink += runAuction("task", i % 2 === 0 ? contexts[i % contexts.length]! : long, undefined, candidates, criteria, policy, estimates).selection.index;
  });
  const decide = timing(2000, (i) => {
    sink += router.decide({ executionId: `e${i}`, request, candidates }).assignments.length;
  });
  if (sink === -1) console.log(sink);
  return { features, withChars, auction, decide, nnz: long.content.indices.length };
}

// ---------------------------------------------------------------------------------------------------------- main

function pct(x: number, digits = 1): string {
  return Number.isFinite(x) ? `${(100 * x).toFixed(digits)}%` : "—";
}

function points(x: number): string {
  return Number.isFinite(x) ? `${(100 * x).toFixed(1)} pts` : "—";
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

function gaussian(rng: Rng): number {
  return Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}

/** Every prompt of the tables embedded once (tables without prompts, such as the synthetic one, are left as they are). */
async function embedTables<T extends { table: Table }>(tables: T[], embedder: TableEmbedder): Promise<T[]> {
  const embedded: T[] = [];
  for (const entry of tables) {
    const { table } = entry;
    if (table.tasks.every((task) => task.prompt === "")) {
      embedded.push(entry);
      continue;
    }
    const started = performance.now();
    const { vectors, cached } = await embedder.embedAll(table.tasks.map((task) => task.prompt));
    const missing = vectors.filter((v) => v === null).length;
    const how = cached ? `read from ${OUT}` : `in ${round((performance.now() - started) / 1000, 1)} s`;
    console.log(`   ${table.source}: ${table.tasks.length.toLocaleString("en")} prompts embedded by ${embedder.featurizer.model} ${how}${missing > 0 ? ` (${missing} too long to embed: routed on their shape)` : ""}`);
    embedded.push({ ...entry, table: { ...table, tasks: table.tasks.map((task, i) => ({ ...task, embedding: vectors[i] })) } });
  }
  return embedded;
}

async function main(): Promise<void> {
  const file = positionals[0];
  console.log(`atomic routing bench — ${cpus()[0]?.model ?? "cpu"} × ${availableParallelism()}, node ${process.version}`);
  const given = flags.criteria !== undefined || flags["quality-target"] !== undefined || flags.weights !== undefined;
  const rule = ENGINE_TARGET !== null
    ? `quality target ${ENGINE_TARGET}${given ? "" : ", as the gateway with this learner unless configured (--weights to choose by weights)"}`
    : ENGINE_CRITERIA.weights === undefined ? `the default weights ${JSON.stringify(DEFAULT_WEIGHTS)}, as the gateway with this learner unless configured` : "the weights given";
  console.log(`engine: ${flags.policy} on ${flags.features} features, criteria ${JSON.stringify(ENGINE_CRITERIA)}: chooses by ${rule}`);
  mkdirSync(OUT, { recursive: true });
  const embedder = flags.features === "embedding" ? await openTableEmbedder(flags.family, OUT, Math.max(1, availableParallelism())) : undefined;
  const featurizer: ContentFeaturizer = embedder?.featurizer ?? (flags.features === "none" ? new NoContentFeaturizer() : new HashedNgramFeaturizer(HASHED_OPTIONS));
  const kinds = flags.tables.split(",").map((k) => k.trim());
  const generated: Array<{ seed: number; name: string; table: Table }> = file !== undefined
    ? [{ seed: 1, name: "file", table: tableFromFile(file) }]
    : SEEDS.flatMap((seed) => [
      ...(kinds.includes("synthetic") ? [{ seed, name: `synthetic-seed${seed}`, table: syntheticTable(seed, TASKS) }] : []),
      ...(kinds.includes("exam") ? [{ seed, name: `exam-seed${seed}`, table: twoModelTable(`exam-like, seed ${seed}`, examTable(seed)) }] : []),
      ...(kinds.includes("math") ? [{ seed, name: `math-seed${seed}`, table: twoModelTable(`math-like, seed ${seed}`, mathTable(seed)) }] : []),
    ]);
  const tables = embedder === undefined ? generated : await embedTables(generated, embedder);
  await embedder?.close();

  if (SECTIONS.includes("replay")) console.log(`\n1. replay, every policy from an empty state: ${file ?? `${kinds.join(", ")}; seeds ${SEEDS.join(", ")}`}`);
  const results: Array<{ name: string; result: SeedResult }> = [];
  for (const { seed, name, table: raw } of SECTIONS.includes("replay") ? tables : []) {
    WARMUP = flags.warmup === undefined ? (name.startsWith("synthetic") ? 1000 : Math.floor(raw.tasks.length / 10)) : Number(flags.warmup);
    const table = withContent(raw, featurizer);
    const result = await runTable(seed, table, featurizer);
    results.push({ name, result });
    printSeed(result);
    console.log(`   engine's choices in the second half, by kind:\n     ${result.settled.join("\n     ")}`);
    const svg = join(OUT, `regret-${name}.svg`);
    writeFileSync(svg, regretSvg(result));
    writeFileSync(join(OUT, `regret-${name}-engine.svg`), regretSvg(result, "engine"));
    console.log(`   regret curves: ${svg}`);
    if (ORDERS > 1) await overOrders(seed, table, featurizer);
  }

  const synthetic = results.filter((r) => r.name.startsWith("synthetic") || r.name === "file");
  if (synthetic.length > 0) {
    console.log(`\n2. engine vs always-strongest after warm-up (synthetic target: quality ≥ ${pct(QUALITY_TARGET)}, cost ≤ ${pct(COST_TARGET)})`);
    for (const { result } of synthetic) {
      const e = result.rows.find((r) => r.policy === "engine")!.summary;
      const s = result.rows.find((r) => r.policy === "strongest")!.summary;
      const q = e.lateQuality / s.lateQuality;
      const c = e.lateCost / s.lateCost;
      console.log(`   ${result.table.source.padEnd(28)} quality ${pct(q, 2)}   cost ${pct(c, 2)}   (overall ${pct(e.quality / s.quality)} / ${pct(e.cost / s.cost)})   ${q >= QUALITY_TARGET && c <= COST_TARGET ? "met" : "NOT met"}`);
    }
  }

  const twoModel = SECTIONS.includes("curves") ? tables.filter((t) => t.table.models.length === 2) : [];
  if (twoModel.length > 0) {
    console.log(`\n3. two-model tables: strong-call share needed (engine learning online from ${HISTORY_SHARE === 0 ? "empty" : "the history it was taught first"}; mean, range and spread over shuffles)`);
    for (const { seed, table } of twoModel) {
      const prepared = withContent(weakFirst(table), featurizer);
      if (HISTORY_SHARE === 0) await twoModelCurves(prepared, seed, featurizer);
      else {
        const { history, rest } = splitTable(prepared, HISTORY_SHARE, seed * 7_919 + 3);
        await twoModelCurves(rest, seed, featurizer, history);
      }
    }
  }

  if (!SECTIONS.includes("cpu")) return;
  console.log("\n4. CPU per routing step (median of 21 batches by process.cpuUsage; p99 of 20,000 single calls by the clock)");
  const cpu = measureCpu();
  console.log(`   content features of a 2 KB prompt (${cpu.nnz} features)    median ${round(cpu.features.median, 2)} µs   p99 ${round(cpu.features.p99, 2)} µs   (target ≤ 30 µs)`);
  console.log(`   the same with character 3- to 5-grams (former default) median ${round(cpu.withChars.median, 2)} µs   p99 ${round(cpu.withChars.p99, 2)} µs   (${round(cpu.withChars.median / cpu.features.median, 1)}× the words alone)`);
  console.log(`   bid + select, 10 candidates, content features       median ${round(cpu.auction.median, 2)} µs   p99 ${round(cpu.auction.p99, 2)} µs   (target ≤ 50 µs p99)`);
  console.log(`   whole decide(): features, plan, auction, record     median ${round(cpu.decide.median, 2)} µs   p99 ${round(cpu.decide.p99, 2)} µs`);
}

await main();
