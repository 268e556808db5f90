/**
 * The routing bench's tables and its replay loop: one row of outcomes per task and model, replayed in a given order
 * through a fresh BiddingRouter, the table's score standing in for each execution's verdict. Shared by
 * `npm run bench:routing` and the tests that hold the learner to its behaviour on the generated tables.
 */
import { readFileSync } from "node:fs";
import type { ContentFeaturizer } from "../../src/bidding/content/interface.js";
import type { CriteriaInput } from "../../src/bidding/criteria.js";
import { singleTaskPlan } from "../../src/bidding/decomposer.js";
import { estimateTokens, featuresFromValues, TASK_TYPES, type TaskFeatures, type TaskType } from "../../src/bidding/features.js";
import type { Candidate } from "../../src/bidding/request.js";
import { BiddingRouter, type TrainingExample } from "../../src/bidding/router.js";
import type { SelectionPolicy } from "../../src/bidding/selection/interface.js";
import { MemoryBiddingStore } from "../../src/bidding/store/memory.js";
import { parseCsv, parseJsonl, successOf } from "../../src/bidding/training.js";
import { seededRng } from "../../src/util/rng.js";
import { STRONG, WEAK, type GeneratedItem } from "./routing-tables.js";

export interface ModelInfo {
  id: string;
  cost: Candidate["cost"];
  strength: number;
}

export interface Outcome {
  /** 0…1. */
  score: number;
  cost: number;
  latencyMs: number;
  completionTokens: number;
}

export interface Task {
  id: string;
  kind: string;
  prompt: string;
  features: TaskFeatures;
  /** By model index. */
  outcomes: Outcome[];
  /** Success probabilities by model index, where the table was generated with them. */
  truth?: number[];
  /** Where the table was generated: what the prompt's text shows of `truth` (see routing-tables.ts). */
  cues?: string;
  /** The prompt's embedding, for the embedding featurizer (routing-embeddings.ts). */
  embedding?: Float32Array | null;
}

export interface Table {
  source: string;
  models: ModelInfo[];
  tasks: Task[];
}

/** Content features for every task of a table, in the engine's featurizer (computed once per table). */
export function withContent(table: Table, featurizer: ContentFeaturizer): Table {
  return {
    ...table,
    tasks: table.tasks.map((task) => ({
      ...task,
      features: task.prompt === "" ? task.features : featuresFromValues(task.features, featurizer.featurize({ kind: "task", text: task.prompt, embedding: task.embedding ?? undefined })),
    })),
  };
}


export function twoModelTable(source: string, items: GeneratedItem[]): Table {
  const models: ModelInfo[] = [WEAK, STRONG].map((m, i) => ({ id: m.id, cost: { unit: "table", per1kPromptTokens: m.per1k, per1kCompletionTokens: m.per1k }, strength: i }));
  const tasks = items.map((item): Task => ({
    id: item.id,
    kind: item.kind,
    prompt: item.prompt,
    features: featuresFromValues({ taskType: "chat", inputTokens: item.inputTokens }),
    outcomes: [WEAK, STRONG].map((m, i) => ({
      score: item.success[i] ? 1 : 0,
      cost: ((item.inputTokens + item.outputTokens[i]!) * m.per1k) / 1000,
      // Latency scales with price here (the strong model is the slow one), so lowest-latency means weak.
      latencyMs: (item.inputTokens + item.outputTokens[i]!) * (i === 0 ? 2 : 12),
      completionTokens: item.outputTokens[i]!,
    })),
    truth: [...item.p],
    cues: item.cues,
  }));
  return { source, models, tasks };
}

/**
 * A two-model table with its weaker model (by mean score) first: the curves count calls to the model at index 1
 * as strong calls. A table read from a file lists its models in the order its rows name them, which says nothing
 * of which is strong. Any other table is returned as it is.
 */
export function weakFirst(table: Table): Table {
  if (table.models.length !== 2 || !(table.models[0]!.strength > table.models[1]!.strength)) return table;
  return {
    ...table,
    models: [table.models[1]!, table.models[0]!],
    tasks: table.tasks.map((task) => ({
      ...task,
      outcomes: [task.outcomes[1]!, task.outcomes[0]!],
      ...(task.truth === undefined ? {} : { truth: [task.truth[1]!, task.truth[0]!] }),
    })),
  };
}

export interface Run {
  label: string;
  /** Model index chosen per task, in table order (whatever order they were replayed in). */
  choices: Int32Array;
  explored: number;
}

/**
 * Replays the table in `order` (task indices) through a fresh router. The table's score stands in for the
 * execution's verdict: 1/0 as the validity check, a graded score as feedback that replaces the automatic reward.
 * `verdict: "feedback"`: every answer arrives as valid free text and the score comes after it as feedback, as the
 * gateway learns where a site's own checks or raters judge answers (the eval's `--auto` runs).
 * `fullFeedback`: the learner is also taught every other model's outcome on each task, which no deployment sees —
 * a reference for how much of the learner's shortfall comes from seeing only the chosen model's outcome.
 * `shadowRate`: shadow runs (src/bidding/shadow.ts) at that rate, compared as a deployment compares answers: where
 * the served answer scored 1 they agree exactly when the shadow's scored 1 too; where it scored less, the table
 * cannot say whether two wrong answers were the same, and they are reported as differing (nothing is learned).
 */
export interface ReplayOptions {
  fullFeedback?: boolean;
  /**
   * A site's history, learned before the first task is replayed as `atomic bidding train` teaches it: every
   * model's outcome on every task of this table (see splitTable).
   */
  history?: Table;
  verdict?: "check" | "feedback";
  shadowRate?: number;
  /** Seeds the shadow draws. */
  seed?: number;
}

export async function replay(table: Table, order: readonly number[], policy: SelectionPolicy, criteria: CriteriaInput, featurizer: ContentFeaturizer, label: string, options: ReplayOptions = {}): Promise<Run> {
  const { fullFeedback = false, shadowRate = 0 } = options;
  const router = new BiddingRouter({
    store: new MemoryBiddingStore(), policy, featurizer, saveEvery: 1_000_000, explainTerms: 0,
    rewards: { latencyPenalty: 0 },
    ...(shadowRate > 0 ? { shadow: { rate: shadowRate, random: seededRng(options.seed ?? 1) } } : {}),
  });
  const candidates: Candidate[] = table.models.map((m) => ({
    id: m.id, cost: m.cost, contextLength: 1_000_000, parallel: 1, strength: m.strength, state: "ready", inFlight: 0, queued: 0,
  }));
  if (options.history !== undefined) await router.train(trainingExamples(options.history));
  const index = new Map(table.models.map((m, i) => [m.id, i]));
  const choices = new Int32Array(table.tasks.length);
  let explored = 0;
  for (const t of order) {
    const task = table.tasks[t]!;
    // route(), as the gateway does: the stored decision is what lets feedback revise the quality target's calibration.
    const decision = await router.route({ executionId: task.id, request: { kind: "task", text: task.prompt }, candidates, criteria, plan: singleTaskPlan({ text: task.prompt }, task.features) });
    const m = index.get(decision.modelId)!;
    choices[t] = m;
    if (decision.assignments[0]!.mode === "explore") explored++;
    const outcome = task.outcomes[m]!;
    const graded = outcome.score > 0 && outcome.score < 1;
    const byFeedback = graded || options.verdict === "feedback";
    await router.recordOutcome({
      executionId: task.id,
      modelId: decision.modelId,
      promptTokens: task.features.inputTokens,
      completionTokens: outcome.completionTokens,
      queueMs: 0,
      inferenceMs: outcome.latencyMs,
      schemaValid: options.verdict === "feedback" ? null : graded || outcome.score === 1,
    });
    if (byFeedback) await router.recordFeedback({ executionId: task.id, score: outcome.score });
    if (decision.shadow !== null) {
      const shadow = task.outcomes[index.get(decision.shadow.modelId)!]!;
      await router.recordShadowComparison(task.id, outcome.score >= 1 && shadow.score >= 1);
    }
    if (fullFeedback) {
      for (let other = 0; other < table.models.length; other++) if (other !== m) policy.update(table.models[other]!.id, task.features, task.outcomes[other]!.score);
    }
  }
  return { label, choices, explored };
}

/** Every model's outcome on every task of a table, as training rows. */
function trainingExamples(history: Table): TrainingExample[] {
  return history.tasks.flatMap((task) => history.models.map((model, m) => {
    const outcome = task.outcomes[m]!;
    return {
      request: { kind: "task" as const, text: task.prompt, ...(task.embedding ? { embedding: task.embedding } : {}) },
      modelId: model.id,
      score: outcome.score,
      usage: { promptTokens: task.features.inputTokens, completionTokens: outcome.completionTokens, latencyMs: outcome.latencyMs },
    };
  }));
}

/**
 * A table split in two at random (seeded): the first `share` of its tasks as a history to learn from before a
 * replay, the rest to replay and measure on, each in the table's own order.
 */
export function splitTable(table: Table, share: number, seed: number): { history: Table; rest: Table } {
  const order = shuffled(table.tasks.length, seed);
  const cut = Math.round(share * order.length);
  const part = (indices: number[]): Table => ({ ...table, tasks: indices.sort((a, b) => a - b).map((i) => table.tasks[i]!) });
  return { history: part(order.slice(0, cut)), rest: part(order.slice(cut)) };
}

export function shuffled(n: number, seed: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  if (seed === 0) return order;
  const rng = seededRng(seed * 104_729);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/** A two-model operating point: the share of tasks sent to the strong model (index 1) and the mean quality. */
export interface Point {
  share: number;
  quality: number;
}

export function operatingPoint(table: Table, choices: Int32Array): Point {
  let strong = 0;
  let quality = 0;
  for (let t = 0; t < choices.length; t++) {
    strong += choices[t]!;
    quality += table.tasks[t]!.outcomes[choices[t]!]!.score;
  }
  return { share: strong / choices.length, quality: quality / choices.length };
}

/** A table from a file (CSV or JSONL, the format in routing.ts), as the bench and the tests read it. */
export function tableFromFile(path: string): Table {
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
  const scores = modelIds.map(() => 0);
  for (const [id, entry] of byTask) {
    const f = entry.first;
    const taskType = (TASK_TYPES as readonly string[]).includes(String(f.task_type)) ? (f.task_type as TaskType) : "chat";
    const prompt = typeof f.prompt === "string" ? f.prompt : "";
    const inputTokens = num(f.input_tokens, prompt === "" ? 200 : estimateTokens(prompt.length, 0));
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
      const score = row.score === undefined || row.score === "" ? successOf(row.success) : num(row.score, Number.NaN);
      // A table without latencies (outcome data seldom has them) replays with every model alike in speed.
      const outcome = { score, cost: num(row.cost, Number.NaN), latencyMs: row.latency_ms === undefined || row.latency_ms === "" ? 0 : Number(row.latency_ms), completionTokens: num(row.output_tokens, 100) };
      if (!(score >= 0 && score <= 1)) throw new Error(`${path}: task ${id}, model ${model}: score must be from 0 to 1 (or give success: 1/0 or true/false)`);
      if (!Number.isFinite(outcome.cost) || !Number.isFinite(outcome.latencyMs)) throw new Error(`${path}: task ${id}, model ${model}: cost must be a number, and latency_ms one where given`);
      tokens[m]! += inputTokens + outcome.completionTokens;
      costs[m]! += outcome.cost;
      scores[m]! += score;
      return outcome;
    });
    tasks.push({ id, kind: typeof f.kind === "string" && f.kind !== "" ? f.kind : taskType, prompt, features, outcomes });
  }
  // A table carries costs, not price lists: each model's profile is its mean cost per 1k tokens in the table, as a
  // manifest would state it. "Strongest" is the model with the best mean score in the table.
  const models = modelIds.map((id, m): ModelInfo => {
    const per1k = tokens[m]! > 0 ? (costs[m]! / tokens[m]!) * 1000 : 0;
    return { id, cost: { unit: "table", per1kPromptTokens: per1k, per1kCompletionTokens: per1k }, strength: scores[m]! };
  });
  return { source: path, models, tasks };
}

function num(value: unknown, fallback: number): number {
  if (value === undefined || value === null || value === "") return fallback;
  const n = Number(value);
  return Number.isFinite(n) ? n : fallback;
}
