import { NOT_EXCLUDED } from "./criteria.js";
import type { ExclusionReason } from "./errors.js";
import type { PerformanceEstimates } from "./estimates.js";
import type { TaskFeatures } from "./features.js";
import type { Candidate } from "./request.js";
import type { Estimate, SelectionPolicy } from "./selection/interface.js";

/**
 * One model's bid for one microtask. Computed locally from what is already known — the learner's estimate, the
 * model's cost profile, running speed estimates and the model's queue — so bidding never calls a model and costs
 * well under a microsecond per candidate. Pure and synchronous.
 */
export interface Bid {
  modelId: string;
  /** Predicted reward (success) for this microtask from what the learner has seen, 0..1. */
  confidence: number;
  /** The learner's plausible upper bound on the same (confidence plus its uncertainty), 0..1. */
  confidenceUpper: number;
  /** What the learner explores with: a posterior draw (Thompson sampling) or its optimistic bound (LinUCB). */
  confidenceSample: number;
  /** Outcomes the learner has seen for this model (all contexts). */
  observations: number;
  promptTokens: number;
  /** Expected completion tokens: learned per task type and model, capped by the request's max_tokens. */
  completionTokens: number;
  /** (promptTokens × per1kPromptTokens + completionTokens × per1kCompletionTokens) / 1000, in costUnit. */
  cost: number;
  costUnit: string;
  /** Expected milliseconds until the answer: inference time, stretched by the requests queued ahead. */
  latencyMs: number;
  /** Executions the latency estimate rests on (0: the prior speed only). */
  latencyObservations: number;
  /** The candidate's prior strength rank (used by the always-strongest baseline only). */
  strength: number;
  // Filled by applyCriteria:
  eligible: boolean;
  excludedBy: readonly ExclusionReason[];
  costTerm: number;
  latencyTerm: number;
  score: number;
  optimisticScore: number;
}

/** Bids of every candidate for a microtask with these features, in candidate order. */
export function computeBids(
  candidates: readonly Candidate[],
  features: TaskFeatures,
  maxTokens: number | undefined,
  policy: SelectionPolicy,
  estimates: PerformanceEstimates,
): Bid[] {
  const promptTokens = features.inputTokens;
  const estimate: Estimate = { mean: 0, upper: 0, sample: 0, observations: 0 };
  const bids: Bid[] = new Array<Bid>(candidates.length);
  for (let i = 0; i < candidates.length; i++) {
    const candidate = candidates[i]!;
    policy.estimate(candidate.id, features, estimate);
    const completionTokens = estimates.expectedCompletionTokens(features, maxTokens, candidate.id);
    let excludedBy = NOT_EXCLUDED;
    if (candidate.state !== "ready" && candidate.state !== "loading") excludedBy = ["unavailable"];
    if (promptTokens + completionTokens > candidate.contextLength) {
      excludedBy = excludedBy.length === 0 ? ["context_length"] : [...excludedBy, "context_length"];
    }
    bids[i] = {
      modelId: candidate.id,
      confidence: estimate.mean,
      confidenceUpper: estimate.upper,
      confidenceSample: estimate.sample,
      observations: estimate.observations,
      promptTokens,
      completionTokens,
      cost: bidCost(candidate, promptTokens, completionTokens),
      costUnit: candidate.cost.unit,
      latencyMs: estimates.serviceMs(candidate.id, promptTokens, completionTokens) * queueFactor(candidate),
      latencyObservations: estimates.speedObservations(candidate.id),
      strength: candidate.strength,
      eligible: excludedBy.length === 0,
      excludedBy,
      costTerm: 0,
      latencyTerm: 0,
      score: 0,
      optimisticScore: 0,
    };
  }
  return bids;
}

export function bidCost(candidate: Pick<Candidate, "cost">, promptTokens: number, completionTokens: number): number {
  return (promptTokens * candidate.cost.per1kPromptTokens + completionTokens * candidate.cost.per1kCompletionTokens) / 1000;
}

/**
 * How much longer than its own inference a request waits on this model. With a free slot it starts at once;
 * otherwise the requests ahead of it drain `parallel` at a time, each batch taking about one service time, so the
 * wait grows by 1/parallel of a service time per request ahead.
 */
export function queueFactor(candidate: Pick<Candidate, "inFlight" | "queued" | "parallel">): number {
  const ahead = candidate.inFlight + candidate.queued - candidate.parallel + 1;
  return ahead <= 0 ? 1 : 1 + ahead / candidate.parallel;
}
