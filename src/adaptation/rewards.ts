import { DEFAULT_REWARD_OPTIONS, type RewardOptions } from "../bidding/tracker.js";
import type { FinishReason } from "../inference/interface.js";

/**
 * Rewards for adaptation, on the bidding tracker's scale and with its options, so that "good" means the same to
 * both learners: an error the model answers for is 0, invalid structured output is 0, each extra structured
 * attempt and lateness beyond the bid cost a share; explicit feedback is combined with the automatic part as
 * bidding combines them (withFeedback: the score, less what the answer's delivery cost).
 *
 * The difference: a free-text answer that merely arrived says nothing about whether exemplars or a temperature made
 * it better, so it teaches nothing until someone judges it (`informative: false`). Structured output (valid or not)
 * and failures teach at once.
 */
export interface AdaptationOutcome {
  errorCode: string | null;
  schemaValid: boolean | null;
  attempts: number;
  finishReason: FinishReason | null;
  /** Queue and inference time, against what the winning bid promised (null: the caller named the model). */
  latencyMs: number;
  expectedLatencyMs: number | null;
}

export interface AutomaticReward {
  reward: number | null;
  /** Whether the reward says anything about the answer's quality, so that it is learned before any feedback. */
  informative: boolean;
}

export function automaticReward(outcome: AdaptationOutcome, options: RewardOptions = DEFAULT_REWARD_OPTIONS): AutomaticReward {
  const { errorCode } = outcome;
  if (errorCode != null) return options.neutralErrorCodes.includes(errorCode) ? { reward: null, informative: false } : { reward: 0, informative: true };
  if (outcome.schemaValid === false) return { reward: 0, informative: true };
  let reward = 1 - options.retryPenalty * Math.max(0, outcome.attempts - 1);
  // An answer cut off at max_tokens is worth less: a learned max_tokens must not cut answers short.
  if (outcome.finishReason === "length" && outcome.schemaValid === null) reward -= options.retryPenalty;
  if (outcome.expectedLatencyMs !== null && outcome.expectedLatencyMs > 0) {
    const lateness = outcome.latencyMs / outcome.expectedLatencyMs;
    reward -= options.latencyPenalty * clamp01((lateness - options.latencyTolerance) / options.latencyTolerance);
  }
  return { reward: clamp01(reward), informative: outcome.schemaValid !== null };
}

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}
