import { z } from "zod";
import type { Bid } from "./bids.js";
import { CriteriaError, NoEligibleModelError, type ExclusionReason } from "./errors.js";

/**
 * Criteria: how the winner is chosen among eligible bids (a quality target, or weights) and which bids may not win
 * at all (constraints).
 *
 * Quality target (`qualityTarget`, e.g. 0.95): the realised quality should be the target × what the best eligible model
 * would give. Per request, the cheapest eligible bid whose predicted quality is within a slack of the best eligible
 * prediction wins — "the cheapest model good enough for this request"; the router sets the slack from the target
 * and calibrates it online so that the realised quality ratio tracks the target (calibration.ts). Weights:
 * the bid with the best weighted utility (quality − cost − latency) wins; only their ratios matter.
 *
 * Which of the two applies: the most specific level (request, then tenant, then global) that sets `qualityTarget`
 * or `weights` decides. A level that sets a number as qualityTarget selects the target (its weights, if any, are
 * recorded but unused); a level that sets weights without a target, or qualityTarget: null, selects the weights.
 * Nothing set anywhere: the weights (DEFAULT_WEIGHTS), as before quality targets existed: with the shape-only
 * learner a target has little to tell requests apart by. Weights themselves still resolve field by field.
 *
 * Precedence, field by field: request > tenant > global > built-in default. A level that leaves a field out
 * inherits it from the level below; a constraint set to null at a level lifts the constraint for that level and
 * those above it (so a request may lift a tenant's default latency limit, as the precedence says — a ceiling a
 * request must never raise belongs to policy enforcement, not to criteria).
 *
 * Weights are non-negative and only their ratios matter: they are normalised to sum to 1 before scoring.
 */

const Weight = z.number().min(0).max(1000);

export const CriteriaSchema = z.strictObject({
  /** Share of the best candidate's predicted quality the chosen one must reach, 0..1; null selects the weights. */
  qualityTarget: z.number().min(0).max(1).nullable().optional(),
  weights: z.strictObject({
    quality: Weight.optional(),
    cost: Weight.optional(),
    latency: Weight.optional(),
  }).optional(),
  constraints: z.strictObject({
    /** Expected latency (queueing + inference) a bid may not exceed, in milliseconds. */
    maxLatencyMs: z.number().positive().nullable().optional(),
    /** Expected cost a bid may not exceed, in the models' cost unit. */
    maxCost: z.number().nonnegative().nullable().optional(),
    /** Predicted success a model must plausibly reach, 0..1 (see applyCriteria for "plausibly"). */
    minConfidence: z.number().min(0).max(1).nullable().optional(),
  }).optional(),
});
export type CriteriaInput = z.infer<typeof CriteriaSchema>;

export interface Weights {
  quality: number;
  cost: number;
  latency: number;
}

export interface Constraints {
  maxLatencyMs: number | null;
  maxCost: number | null;
  minConfidence: number | null;
}

export type CriteriaSource = "request" | "tenant" | "global" | "default";

export interface ResolvedCriteria {
  /** The quality target in force, or null when the weights decide. */
  qualityTarget: number | null;
  /** Normalised: they sum to 1. */
  weights: Weights;
  constraints: Constraints;
  /** Which level each field came from, so a decision record can say why a constraint applied. */
  sources: { [K in keyof Weights | keyof Constraints | "qualityTarget"]: CriteriaSource };
}

/**
 * Quality first, cost second, latency a tie-breaker: with these, an expensive model wins only where it succeeds
 * clearly more often (about 0.15 in success rate for the full cost range between the cheapest and dearest bid).
 */
export const DEFAULT_WEIGHTS: Readonly<Weights> = Object.freeze({ quality: 1, cost: 0.15, latency: 0.05 });

/**
 * The quality target a learner whose predictions are success probabilities (the logistic learner) chooses by when
 * nothing is configured: the cheapest model predicted to give at least 95 % of the best one's quality.
 */
export const DEFAULT_QUALITY_TARGET = 0.95;

export interface CriteriaLevels {
  request?: CriteriaInput;
  tenant?: CriteriaInput;
  global?: CriteriaInput;
}

const WEIGHT_KEYS = ["quality", "cost", "latency"] as const;
const CONSTRAINT_KEYS = ["maxLatencyMs", "maxCost", "minConfidence"] as const;
const LEVELS = ["request", "tenant", "global"] as const;

/**
 * `defaultQualityTarget`: what chooses when no level sets a quality target or weights — a target (for a learner whose
 * predictions are success probabilities, so that a target means what it says) or null, the default weights.
 */
export function resolveCriteria(levels: CriteriaLevels = {}, defaultQualityTarget: number | null = null): ResolvedCriteria {
  const raw = { ...DEFAULT_WEIGHTS };
  const constraints: Constraints = { maxLatencyMs: null, maxCost: null, minConfidence: null };
  const sources = {
    qualityTarget: "default", quality: "default", cost: "default", latency: "default", maxLatencyMs: "default", maxCost: "default", minConfidence: "default",
  } as ResolvedCriteria["sources"];

  let qualityTarget = defaultQualityTarget;
  for (const level of LEVELS) {
    const input = levels[level];
    if (input?.qualityTarget !== undefined) {
      qualityTarget = input.qualityTarget;
      sources.qualityTarget = level;
      break;
    }
    if (input?.weights !== undefined) {
      qualityTarget = null;
      sources.qualityTarget = level;
      break;
    }
  }

  for (const key of WEIGHT_KEYS) {
    for (const level of LEVELS) {
      const value = levels[level]?.weights?.[key];
      if (value !== undefined) {
        raw[key] = value;
        sources[key] = level;
        break;
      }
    }
  }
  for (const key of CONSTRAINT_KEYS) {
    for (const level of LEVELS) {
      const value = levels[level]?.constraints?.[key];
      if (value !== undefined) {
        constraints[key] = value;
        sources[key] = level;
        break;
      }
    }
  }

  const sum = raw.quality + raw.cost + raw.latency;
  if (!(sum > 0)) throw new CriteriaError("criteria weights must not all be zero");
  return {
    qualityTarget,
    weights: { quality: raw.quality / sum, cost: raw.cost / sum, latency: raw.latency / sum },
    constraints,
    sources,
  };
}

/** Shared by eligible bids: most bids are never excluded, so they allocate no list. */
export const NOT_EXCLUDED: readonly ExclusionReason[] = Object.freeze([]);

/**
 * Applies the hard constraints, then scores every bid (what the weights choose by, and what a decision record shows
 * either way):
 *   score           = wQ × confidence       − wC × cost / maxCost − wL × latency / maxLatency
 *   optimisticScore = wQ × confidenceSample − (the same terms)
 * Cost and latency are divided by the largest among eligible bids, so the terms are unit-free (a site's cost unit
 * may be compute-seconds or joules) and an excluded outlier does not flatten the differences between the rest.
 *
 * minConfidence is held against the optimistic bound, not the mean: a model the learner knows little about is
 * given the benefit of the doubt until evidence shows it falls short. Held against the mean, a strict minimum
 * would exclude every new model forever, since it could never be tried to prove itself.
 *
 * Throws NoEligibleModelError when nothing remains.
 */
export function applyCriteria(bids: Bid[], criteria: ResolvedCriteria, microtaskId: string): void {
  const { maxLatencyMs, maxCost, minConfidence } = criteria.constraints;
  let maxEligibleCost = 0;
  let maxEligibleLatency = 0;
  let eligibleCount = 0;
  for (const bid of bids) {
    let reasons = bid.excludedBy;
    if (maxLatencyMs !== null && bid.latencyMs > maxLatencyMs) reasons = withReason(reasons, "max_latency");
    if (maxCost !== null && bid.cost > maxCost) reasons = withReason(reasons, "max_cost");
    if (minConfidence !== null && bid.confidenceUpper < minConfidence) reasons = withReason(reasons, "min_confidence");
    bid.excludedBy = reasons;
    bid.eligible = reasons.length === 0;
    if (bid.eligible) {
      eligibleCount++;
      if (bid.cost > maxEligibleCost) maxEligibleCost = bid.cost;
      if (bid.latencyMs > maxEligibleLatency) maxEligibleLatency = bid.latencyMs;
    }
  }
  if (eligibleCount === 0) {
    throw new NoEligibleModelError(microtaskId, bids.map((b) => ({ model: b.modelId, excludedBy: b.excludedBy })));
  }
  const { quality, cost, latency } = criteria.weights;
  const costScale = maxEligibleCost > 0 ? cost / maxEligibleCost : 0;
  const latencyScale = maxEligibleLatency > 0 ? latency / maxEligibleLatency : 0;
  for (const bid of bids) {
    bid.costTerm = bid.cost * costScale;
    bid.latencyTerm = bid.latencyMs * latencyScale;
    bid.score = quality * bid.confidence - bid.costTerm - bid.latencyTerm;
    bid.optimisticScore = quality * bid.confidenceSample - bid.costTerm - bid.latencyTerm;
  }
}

function withReason(reasons: readonly ExclusionReason[], reason: ExclusionReason): readonly ExclusionReason[] {
  return reasons.length === 0 ? [reason] : [...reasons, reason];
}
