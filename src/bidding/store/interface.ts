import type { CalibrationState } from "../calibration.js";
import type { DecisionRecord } from "../decision.js";
import type { EstimatesState } from "../estimates.js";

/**
 * What bidding keeps: the learner's state (versioned, so a restart resumes where it stopped), decision records
 * keyed by execution id, one tracked outcome per executed microtask, and explicit feedback. PostgreSQL implements
 * it for the gateway (./postgres.ts); the in-memory one (./memory.ts) serves unit tests and the replay bench.
 */

/** Everything a router learned, as stored. */
export interface LearnerState {
  format: 1;
  /** FEATURE_VERSION the policy state was learned under. */
  featureVersion: number;
  /** The content featurizer's layout the policy state was learned under (absent: saved before content features). */
  contentLayout?: string;
  /** The quality target's calibration (calibration.ts). */
  calibration?: CalibrationState;
  /** Resets so far; outcomes learned under an older epoch are not revised by feedback. */
  epoch: number;
  policy: { name: string; state: unknown };
  estimates: EstimatesState;
}

export interface LearnerSnapshot {
  /** Increases by one with every save; the first save is version 1. */
  version: number;
  state: LearnerState;
  frozen: boolean;
  savedAt: Date;
}

/**
 * A request's features as stored with its outcome and decision, so feedback that arrives after a restart can still
 * be learned: the structural vector and the content vector, with the layouts they were made under (a row of
 * another layout is kept but not learned from).
 */
export interface StoredFeatures {
  featureVersion: number;
  contentLayout: string;
  vector: number[];
  indices: number[];
  values: number[];
}

/** One executed microtask as the tracker recorded it. */
export interface OutcomeRecord {
  executionId: string;
  microtaskId: string;
  modelId: string;
  taskType: string;
  contextKey: string;
  /** The features the learner saw (or would have seen); rows from before content features hold a bare number[]. */
  features: StoredFeatures | number[];
  promptTokens: number;
  completionTokens: number;
  queueMs: number;
  inferenceMs: number;
  /** The winning bid's expected latency; null when no bid was made (an explicitly named model). */
  expectedLatencyMs: number | null;
  errorCode: string | null;
  /** Null for free-text output. */
  schemaValid: boolean | null;
  /** From the outcome alone; null when the outcome says nothing about the model (client went away, overload). */
  automaticReward: number | null;
  /** The reward in force: the automatic one combined with the latest explicit feedback. */
  reward: number | null;
  /** The reward the learner currently holds for this outcome; null if it never learned it (frozen, or neutral). */
  learnedReward: number | null;
  learnerEpoch: number;
  createdAt: Date;
}

export interface NewFeedback {
  executionId: string;
  /** 0 (useless) … 1 (exactly right). */
  score: number;
  tenant: string | null;
  comment: string | null;
}

export interface FeedbackRecord extends NewFeedback {
  createdAt: Date;
}

/** How feedback changes one outcome, decided by the router from the outcome as it was. */
export interface RewardUpdate {
  microtaskId: string;
  reward: number | null;
  learnedReward: number | null;
  learnerEpoch: number;
}

export interface BiddingStore {
  /** The latest saved state of a learner, or null if none was ever saved. */
  loadLearner(learner: string): Promise<LearnerSnapshot | null>;
  /**
   * Saves as version expectedVersion + 1 and returns it. Throws LearnerStateConflictError if that version exists
   * (another process saved since this one loaded): state is never silently overwritten.
   */
  saveLearner(learner: string, expectedVersion: number, state: LearnerState, frozen: boolean): Promise<number>;
  saveDecision(record: DecisionRecord): Promise<void>;
  getDecision(executionId: string): Promise<DecisionRecord | null>;
  /** Whether bidding decided or tracked this execution: feedback for any other is refused. */
  hasExecution(executionId: string): Promise<boolean>;
  /**
   * Records an outcome (a second one for the same execution and microtask replaces the first). Returns the latest
   * feedback score already given for the execution, so feedback that arrived first is not lost.
   */
  saveOutcome(outcome: OutcomeRecord): Promise<{ feedbackScore: number | null }>;
  getOutcomes(executionId: string): Promise<OutcomeRecord[]>;
  updateOutcomeReward(executionId: string, update: RewardUpdate): Promise<void>;
  /**
   * Atomically: stores the feedback and applies `plan`'s updates to the execution's outcomes, which are locked
   * meanwhile so two feedbacks for one execution apply one after the other. Returns the outcomes as they were
   * before, or null (and stores nothing) when the execution is unknown.
   */
  applyFeedback(feedback: NewFeedback, plan: (outcomes: OutcomeRecord[]) => RewardUpdate[]): Promise<OutcomeRecord[] | null>;
  listFeedback(executionId: string): Promise<FeedbackRecord[]>;
  /** Outcomes of executions someone gave feedback on, oldest first, with the reward in force: training data. */
  listJudgedOutcomes(limit: number): Promise<OutcomeRecord[]>;
}
