import type { Neighbour } from "./neighbours.js";
import type { AuctionResult } from "./auction.js";
import type { Bid } from "./bids.js";
import type { Constraints, CriteriaSource, ResolvedCriteria, Weights } from "./criteria.js";
import type { ExclusionReason } from "./errors.js";
import type { Microtask, TaskPlan } from "./decomposer.js";
import type { TaskFeatures, TaskType } from "./features.js";
import type { SelectionMode } from "./selection/interface.js";

/**
 * The decision record: for every microtask, all bids, the criteria in force, the scores, the choice and why.
 * Plain JSON with a stable, versioned shape: it is stored, returned by GET /v1/executions/:id and written into the
 * audit log. Add fields only; a change to an existing one bumps `version`.
 */
export const DECISION_RECORD_VERSION = 1;

export interface DecisionRecord {
  version: typeof DECISION_RECORD_VERSION;
  executionId: string;
  /** ISO 8601. */
  createdAt: string;
  policy: {
    name: string;
    /** A frozen policy chose without learning from the outcome. */
    frozen: boolean;
    /** Incremented by every reset, so feedback never revises what a reset learner no longer holds. */
    epoch: number;
  };
  criteria: {
    /** The quality target in force (null: the weights chose), and the slack it was applied as after calibration. */
    qualityTarget?: number | null;
    qualitySlack?: number | null;
    weights: Weights;
    constraints: Constraints;
    sources: Record<keyof Weights | keyof Constraints | "qualityTarget", CriteriaSource>;
  };
  /** The planner that decomposed the request ("single" when it stayed one microtask). */
  planner: string;
  microtasks: MicrotaskDecision[];
  /** A cheaper model that also answered, off the answer path, to be compared with the served answer (shadow.ts). */
  shadow?: { microtask: string; model: string };
}

export interface FeatureRecord {
  taskType: TaskType;
  inputTokens: number;
  lengthBucket: number;
  schemaProperties: number;
  schemaDepth: number;
  nonAsciiShare: number;
  items: number;
  json: boolean;
  key: string;
  /** The vector the learner saw, so feedback can be learned after a restart. */
  vector: number[];
  /** The content features the learner saw (sparse, in the featurizer's layout), for the same reason. */
  content?: { layout: string; indices: number[]; values: number[] };
}

export interface BidRecord {
  model: string;
  confidence: number;
  confidenceUpper: number;
  observations: number;
  promptTokens: number;
  completionTokens: number;
  cost: number;
  costUnit: string;
  latencyMs: number;
  /** Utility on the mean estimate (what exploiting maximises). */
  score: number;
  /** Utility on the learner's exploring estimate: a posterior draw or an optimistic bound (what a weighted choice maximises). */
  optimisticScore: number;
  /** The learner's exploring estimate of quality (what a quality-target choice compares). */
  confidenceSample?: number;
  eligible: boolean;
  excludedBy: ExclusionReason[];
}

export interface ChoiceRecord {
  model: string;
  mode: SelectionMode;
  /** The model the best mean score would have taken. */
  greedyModel: string;
  /** In words, for operators. */
  reason: string;
  /**
   * Why, for the chosen model and for the cheapest eligible one when it was passed over: with n-gram features, the
   * n-grams of the prompt (PII replaced by placeholders) that moved the model's predicted log-odds of success most
   * ("‘prove that’ −0.8"); with embeddings, which name nothing readable, the past requests most like this one that
   * the model answered and how well (neighbours.ts). Absent where the learner or featurizer cannot say.
   */
  explanation?: ModelExplanation[];
}

export interface ModelExplanation {
  model: string;
  terms?: Array<{ text: string; weight: number }>;
  neighbours?: Neighbour[];
}

export interface MicrotaskDecision {
  id: string;
  kind: Microtask["kind"];
  executor: Microtask["executor"];
  dependsOn: string[];
  parallel: boolean;
  /** Top-level schema properties a part fills; null for other microtasks. */
  fills: string[] | null;
  /** Null for local steps, which are not bid on. */
  features: FeatureRecord | null;
  bids: BidRecord[];
  choice: ChoiceRecord | null;
}

export interface DecisionContext {
  /** The slack the quality target was applied as (null: the weights chose). */
  qualitySlack: number | null;
  /** The content featurizer's layout, stored with the content vectors. */
  contentLayout: string;
  /** Per microtask in plan order, the explanation of its choice (see ChoiceRecord.explanation). */
  explanations?: ReadonlyArray<ModelExplanation[] | undefined>;
  executionId: string;
  createdAt: Date;
  policy: DecisionRecord["policy"];
  criteria: ResolvedCriteria;
  plan: TaskPlan;
  /** One per microtask in plan order; undefined for local steps. */
  auctions: ReadonlyArray<AuctionResult | undefined>;
}

export function buildDecisionRecord(context: DecisionContext): DecisionRecord {
  return {
    version: DECISION_RECORD_VERSION,
    executionId: context.executionId,
    createdAt: context.createdAt.toISOString(),
    policy: { ...context.policy },
    criteria: {
      qualityTarget: context.criteria.qualityTarget,
      qualitySlack: context.qualitySlack,
      weights: { ...context.criteria.weights },
      constraints: { ...context.criteria.constraints },
      sources: { ...context.criteria.sources },
    },
    planner: context.plan.planner,
    microtasks: context.plan.microtasks.map((microtask, i) => microtaskDecision(microtask, context.auctions[i], context.explanations?.[i], context.contentLayout)),
  };
}

function microtaskDecision(microtask: Microtask, auction: AuctionResult | undefined, explanation: ModelExplanation[] | undefined, layout: string): MicrotaskDecision {
  return {
    id: microtask.id,
    kind: microtask.kind,
    executor: microtask.executor,
    dependsOn: [...microtask.dependsOn],
    parallel: microtask.parallel,
    fills: microtask.fills === undefined ? null : [...microtask.fills],
    features: microtask.features === null ? null : featureRecord(microtask.features, layout),
    bids: auction === undefined ? [] : auction.bids.map(bidRecord),
    choice: auction === undefined ? null : choiceRecord(auction, explanation),
  };
}

export function featureRecord(features: TaskFeatures, layout: string): FeatureRecord {
  const content = features.content;
  return {
    taskType: features.taskType,
    inputTokens: features.inputTokens,
    lengthBucket: features.lengthBucket,
    schemaProperties: features.schemaProperties,
    schemaDepth: features.schemaDepth,
    nonAsciiShare: features.nonAsciiShare,
    items: features.items,
    json: features.json,
    key: features.key,
    vector: [...features.vector],
    ...(content.indices.length === 0 ? {} : { content: { layout, indices: [...content.indices], values: compactValues(content.values) } }),
  };
}

/**
 * Content values to six decimals (they lie in [−1, 1]; a Float32 holds about seven digits): printing a Float32 as
 * a double's seventeen only lengthens the stored JSON.
 */
export function compactValues(values: Float32Array): number[] {
  const out = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) out[i] = Math.round(values[i]! * 1e6) / 1e6;
  return out;
}

function bidRecord(bid: Bid): BidRecord {
  return {
    model: bid.modelId,
    confidence: bid.confidence,
    confidenceUpper: bid.confidenceUpper,
    observations: bid.observations,
    promptTokens: bid.promptTokens,
    completionTokens: bid.completionTokens,
    cost: bid.cost,
    costUnit: bid.costUnit,
    latencyMs: bid.latencyMs,
    score: bid.score,
    optimisticScore: bid.optimisticScore,
    confidenceSample: bid.confidenceSample,
    eligible: bid.eligible,
    excludedBy: [...bid.excludedBy],
  };
}

function choiceRecord({ bids, selection }: AuctionResult, explanation: ModelExplanation[] | undefined): ChoiceRecord {
  const chosen = bids[selection.index]!;
  const greedy = bids[selection.greedyIndex]!;
  const excluded = bids.filter((b) => !b.eligible).map((b) => `${b.modelId} (${b.excludedBy.join(", ")})`);
  let reason: string;
  if (selection.rule !== undefined) {
    reason = `fixed rule: ${selection.rule}`;
  } else if (selection.mode === "exploit") {
    reason = `best on what is known: predicted quality ${round(chosen.confidence)}, score ${round(chosen.score)}`;
  } else if (selection.index !== selection.greedyIndex) {
    reason = `explored: its draw ${round(chosen.confidenceSample)} (prediction ${round(chosen.confidence)}) won, where the predictions ` +
      `favoured ${greedy.modelId} (${round(greedy.confidence)})`;
  } else {
    reason = `explored: best on what is known, but nothing observed of ${chosen.modelId} yet`;
  }
  if (excluded.length > 0) reason += `; excluded: ${excluded.join("; ")}`;
  return { model: chosen.modelId, mode: selection.mode, greedyModel: greedy.modelId, reason, ...(explanation === undefined || explanation.length === 0 ? {} : { explanation }) };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
