import type { PerformanceEstimates } from "./estimates.js";
import type { TaskFeatures } from "./features.js";
import type { BiddingStore, OutcomeRecord, StoredFeatures } from "./store/interface.js";

/**
 * The performance tracker: records every executed microtask (model, features, tokens, latency, schema validity,
 * outcome), turns it into a reward in [0, 1] for the learner, and feeds the speed and token estimates that bids
 * read.
 *
 * Automatic reward, from the outcome alone:
 *   - an error the model is answerable for (crash, inference failure, invalid structured output): 0;
 *   - an error that says nothing about the model (the client went away, the model's queue was full): no reward
 *     at all, nothing is learned (`neutralErrorCodes`);
 *   - otherwise 1, less `retryPenalty` for each extra structured-output attempt the model needed, less up to
 *     `latencyPenalty` when it took longer than its bid promised: nothing up to `latencyTolerance` × the bid,
 *     rising linearly to the full penalty at twice that.
 *
 * Explicit feedback: a score in [0, 1] (0 useless, 1 exactly right) for an execution id. It says how right the answer
 * was; the automatic reward says how well it was delivered (parsed, in time, at the first attempt). So the reward is
 * what the answer was worth, less what its delivery cost (withFeedback):
 *   reward = score × automatic    (score alone when automatic is null).
 * A wrong answer is worth 0 however well it parsed. (It was 0.8 × score + 0.2 × automatic: a wrong answer that
 * parsed kept 0.2, squeezing every model's predicted quality toward it, so the quality target let the cheap model
 * take more than the target allowed; replayed on the real family's completion table as the gateway learns —
 * a valid answer first, feedback later — second-half accuracy over 40 orders rose from 63.3 % to 64.5 %, next to
 * 64.8 % when the verdict itself is learned.)
 * Only the latest score for an execution counts; the learner's label for the outcome is replaced, not added to.
 */

export interface RewardOptions {
  latencyTolerance: number;
  latencyPenalty: number;
  retryPenalty: number;
  neutralErrorCodes: readonly string[];
}

export const DEFAULT_REWARD_OPTIONS: Readonly<RewardOptions> = Object.freeze({
  latencyTolerance: 1.5,
  latencyPenalty: 0.25,
  retryPenalty: 0.25,
  neutralErrorCodes: Object.freeze(["request_aborted", "model_overloaded"]),
});

/** One executed microtask as the gateway reports it. */
export interface ExecutionOutcome {
  executionId: string;
  /** The microtask of the decision it executed; "task" (a single-step plan) when omitted. */
  microtaskId?: string;
  modelId: string;
  promptTokens: number;
  completionTokens: number;
  /** Waiting for a free sequence on the model. */
  queueMs: number;
  /** Prefill and generation. */
  inferenceMs: number;
  /** Stable error code when the execution failed; null or absent when it succeeded. */
  errorCode?: string | null;
  /** Whether structured output satisfied its schema; null or absent for free text. */
  schemaValid?: boolean | null;
  /** Structured-output attempts used (1 when the first was valid). */
  attempts?: number;
}

export interface TrackContext {
  features: TaskFeatures;
  /** The features as stored with the outcome (the router makes them: it knows the content layout). */
  stored: StoredFeatures;
  /** The chosen bid's expected latency; null when the model was named by the caller (no bid). */
  expectedLatencyMs: number | null;
  /** Whether the learner takes this outcome now (false while frozen). */
  learn: boolean;
  learnerEpoch: number;
  /** No caller's answer waits on this outcome's save (see BiddingStore.saveOutcome). */
  deferrable?: boolean;
}

export interface TrackedOutcome {
  record: OutcomeRecord;
  /** The reward the learner should take now; null when nothing is to be learned. */
  learnReward: number | null;
}

export class PerformanceTracker {
  readonly options: RewardOptions;

  constructor(
    private readonly store: BiddingStore,
    private readonly estimates: PerformanceEstimates,
    options: Partial<RewardOptions> = {},
    private readonly now: () => Date = () => new Date(),
  ) {
    this.options = { ...DEFAULT_REWARD_OPTIONS, ...options };
  }

  automaticReward(outcome: ExecutionOutcome, expectedLatencyMs: number | null): number | null {
    const { errorCode } = outcome;
    if (errorCode != null) return this.options.neutralErrorCodes.includes(errorCode) ? null : 0;
    if (outcome.schemaValid === false) return 0;
    let reward = 1 - this.options.retryPenalty * Math.max(0, (outcome.attempts ?? 1) - 1);
    if (expectedLatencyMs !== null && expectedLatencyMs > 0) {
      const lateness = (outcome.queueMs + outcome.inferenceMs) / expectedLatencyMs;
      const tolerance = this.options.latencyTolerance;
      reward -= this.options.latencyPenalty * clamp01((lateness - tolerance) / tolerance);
    }
    return clamp01(reward);
  }

  /**
   * Stores the outcome and says what the learner should take from it. Speed and token estimates learn from every
   * generation that finished without error (a failed one may have stopped anywhere), unless learning is off.
   */
  async record(outcome: ExecutionOutcome, context: TrackContext): Promise<TrackedOutcome> {
    const automaticReward = this.automaticReward(outcome, context.expectedLatencyMs);
    if (context.learn && outcome.errorCode == null) {
      this.estimates.observe(outcome.modelId, context.features, outcome.promptTokens, outcome.completionTokens, outcome.inferenceMs);
    }
    const learnReward = context.learn ? automaticReward : null;
    const record: OutcomeRecord = {
      executionId: outcome.executionId,
      microtaskId: outcome.microtaskId ?? "task",
      modelId: outcome.modelId,
      taskType: context.features.taskType,
      contextKey: context.features.key,
      features: context.stored,
      promptTokens: outcome.promptTokens,
      completionTokens: outcome.completionTokens,
      queueMs: outcome.queueMs,
      inferenceMs: outcome.inferenceMs,
      expectedLatencyMs: context.expectedLatencyMs,
      errorCode: outcome.errorCode ?? null,
      schemaValid: outcome.schemaValid ?? null,
      automaticReward,
      reward: automaticReward,
      learnedReward: learnReward,
      learnerEpoch: context.learnerEpoch,
      createdAt: this.now(),
    };
    const { feedbackScore } = await this.store.saveOutcome(record, { deferrable: context.deferrable ?? false });
    if (feedbackScore === null) return { record, learnReward };
    // Feedback arrived before the outcome (a streamed response names its execution first): count it now.
    const reward = withFeedback(automaticReward, feedbackScore);
    const learned = context.learn ? reward : null;
    await this.store.updateOutcomeReward(record.executionId, {
      microtaskId: record.microtaskId, reward, learnedReward: learned, learnerEpoch: context.learnerEpoch,
    });
    return { record: { ...record, reward, learnedReward: learned }, learnReward: learned };
  }
}

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

/** The reward in force once feedback came: the score, less what the answer's delivery cost (see the header). */
export function withFeedback(automatic: number | null, score: number): number {
  return automatic === null ? score : clamp01(score * automatic);
}
