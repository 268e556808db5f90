import type { Bid } from "../bids.js";
import type { Weights } from "../criteria.js";

/** A learner's view of one model for one context: predicted reward and how optimistic it may be. */
export interface Estimate {
  /** Predicted reward, 0..1. */
  mean: number;
  /** Optimistic bound, mean ≤ upper ≤ 1. */
  upper: number;
  observations: number;
}

export type SelectionMode = "explore" | "exploit";

export interface Selection {
  /** Index of the chosen bid. */
  index: number;
  /** The bid a purely greedy choice (best score on mean estimates) would have taken. */
  greedyIndex: number;
  /**
   * "explore" when the choice was made to learn: it differs from the greedy one, or it rests on no observation
   * of the chosen model. "exploit" when it is the best on what is already known.
   */
  mode: SelectionMode;
  /** A fixed rule's own account of its choice; learners leave it out and the record derives one from scores. */
  rule?: string;
}

/**
 * Chooses among eligible bids and learns from rewards. Implementations: the LinUCB learner (./linucb.ts) and the
 * non-learning baselines the replay bench compares it with (./baselines.ts).
 *
 * Rewards are in [0, 1]. A frozen policy keeps choosing but ignores update/revise, so an operator can pin routing
 * while still recording outcomes. State is plain JSON, so it can be stored and restored across restarts.
 */
export interface SelectionPolicy {
  readonly name: string;
  readonly frozen: boolean;
  /** Writes this policy's estimate for a model in a context (feature vector) into `out`; allocates nothing. */
  estimate(modelId: string, x: Float64Array, out: Estimate): void;
  /** Chooses among bids already scored by applyCriteria; at least one is eligible. */
  choose(bids: readonly Bid[], weights: Weights, x: Float64Array): Selection;
  /** Learns one outcome. */
  update(modelId: string, x: Float64Array, reward: number): void;
  /** Replaces the reward of an outcome learned earlier (explicit feedback arrived for it). */
  revise(modelId: string, x: Float64Array, previous: number, reward: number): void;
  freeze(): void;
  unfreeze(): void;
  /** Forgets everything learned. */
  reset(): void;
  /** Outcomes learned per model, for operators. */
  observations(): Record<string, number>;
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
