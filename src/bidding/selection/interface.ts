import type { Bid } from "../bids.js";
import type { Weights } from "../criteria.js";
import type { LearnerInput } from "../features.js";

/** A learner's view of one model for one request: predicted reward, how optimistic it may be, and its draw. */
export interface Estimate {
  /** Predicted reward, 0..1: what the learner expects, and what a bid reports as confidence. */
  mean: number;
  /** Plausible upper bound, mean ≤ upper ≤ 1: what minConfidence is held against. */
  upper: number;
  /**
   * The value the learner explores with, 0..1: a posterior draw (Thompson sampling) or the optimistic bound
   * (LinUCB). A choice made on it tries what might be best; one made on `mean` exploits what is known.
   */
  sample: number;
  observations: number;
}

export type SelectionMode = "explore" | "exploit";

export interface Selection {
  /** Index of the chosen bid. */
  index: number;
  /** The bid a purely greedy choice (the same rule on mean estimates) would have taken. */
  greedyIndex: number;
  /**
   * "explore" when the choice was made to learn: it differs from the greedy one, or it rests on no observation
   * of the chosen model. "exploit" when it is the best on what is already known.
   */
  mode: SelectionMode;
  /** A fixed rule's own account of its choice; learners leave it out and the record derives one from scores. */
  rule?: string;
}

/** What a choice is made by, besides the bids: the criteria's rule and the request's features. */
export interface SelectionContext {
  /** Normalised weights: the rule when no quality target is in force. */
  weights: Weights;
  /**
   * With a quality target in force, the calibrated slack: the cheapest eligible bid whose predicted quality is
   * within `qualitySlack` of the best eligible bid's wins (see criteria.ts, calibration.ts). Null: the weights decide.
   */
  qualitySlack: number | null;
  features: LearnerInput;
}

/**
 * Chooses among eligible bids and learns from rewards. Implementations: the Thompson-sampling logistic learner on
 * content features (./logistic.ts, the default), LinUCB on the request's shape (./linucb.ts), and the non-learning
 * baselines the replay bench compares them with (./baselines.ts).
 *
 * Rewards are in [0, 1]. A frozen policy keeps choosing but ignores update/revise, so an operator can pin routing
 * while still recording outcomes. State is plain JSON, so it can be stored and restored across restarts.
 */
export interface SelectionPolicy {
  readonly name: string;
  readonly frozen: boolean;
  /**
   * Whether estimate()'s mean is a calibrated success probability, so that a quality target means what it says:
   * such a learner chooses by the default quality target where no level of the criteria sets a target or weights
   * (the router's defaultQualityTarget); any other policy by the default weights.
   */
  readonly predictsProbabilities: boolean;
  /** Writes this policy's estimate for a model on a request into `out`; allocates nothing. */
  estimate(modelId: string, x: LearnerInput, out: Estimate): void;
  /** Chooses among bids already scored by applyCriteria; at least one is eligible. */
  choose(bids: readonly Bid[], context: SelectionContext): Selection;
  /** Learns one outcome. */
  update(modelId: string, x: LearnerInput, reward: number): void;
  /** Replaces the reward of an outcome learned earlier (explicit feedback arrived for it). */
  revise(modelId: string, x: LearnerInput, previous: number, reward: number): void;
  freeze(): void;
  unfreeze(): void;
  /** Forgets everything learned. */
  reset(): void;
  /** Outcomes learned per model, for operators. */
  observations(): Record<string, number>;
  /**
   * Optional: each content feature's contribution to the model's prediction (on the learner's own scale, e.g.
   * log-odds), in the order of x.content's entries, so a decision record can say what moved it.
   */
  contributions?(modelId: string, x: LearnerInput): Float64Array;
  exportState(): unknown;
  /** Restores exported state; false (and nothing changed) when it is not this policy's or its layout differs. */
  importState(state: unknown): boolean;
}

/** Index of the eligible bid with the highest value of `key`; ties go to the earlier bid. */
export function argmaxEligible(bids: readonly Bid[], key: "score" | "optimisticScore"): number {
  let best = -1;
  let bestValue = -Infinity;
  for (let i = 0; i < bids.length; i++) {
    const bid = bids[i]!;
    if (bid.eligible && bid[key] > bestValue) {
      best = i;
      bestValue = bid[key];
    }
  }
  return best;
}

/**
 * The quality-target rule: among eligible bids, the cheapest whose predicted quality (`key`) is at most `slack`
 * below the best eligible prediction. Ties in cost go to the better prediction, then the faster bid.
 */
export function cheapestMeeting(bids: readonly Bid[], key: "confidence" | "confidenceSample", slack: number): number {
  let best = 0;
  for (const bid of bids) if (bid.eligible && bid[key] > best) best = bid[key];
  const floor = best - slack;
  let chosen = -1;
  for (let i = 0; i < bids.length; i++) {
    const bid = bids[i]!;
    if (!bid.eligible || bid[key] < floor) continue;
    if (chosen === -1) {
      chosen = i;
      continue;
    }
    const current = bids[chosen]!;
    if (bid.cost < current.cost || (bid.cost === current.cost && (bid[key] > current[key] || (bid[key] === current[key] && bid.latencyMs < current.latencyMs)))) chosen = i;
  }
  return chosen;
}

/**
 * How a learner chooses under the criteria: on its exploring estimates (index) and on its means (greedyIndex),
 * by the quality target when one is in force, else by the weighted score.
 */
export function learnedSelection(bids: readonly Bid[], context: SelectionContext): Selection {
  const slack = context.qualitySlack;
  const index = slack === null ? argmaxEligible(bids, "optimisticScore") : cheapestMeeting(bids, "confidenceSample", slack);
  const greedyIndex = slack === null ? argmaxEligible(bids, "score") : cheapestMeeting(bids, "confidence", slack);
  const mode = index !== greedyIndex || bids[index]!.observations === 0 ? "explore" : "exploit";
  return { index, greedyIndex, mode };
}
