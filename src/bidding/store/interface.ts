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

/**
 * Which decisions a history covers: those made in [since, until), cut into `buckets` equal spans of time; one
 * tenant's (the executions' tenant) or every tenant's.
 */
export interface HistoryQuery {
  since: Date;
  until: Date;
  buckets: number;
  tenant?: string;
}

/** Means over a set of decisions (one per microtask bidding assigned); null where there was nothing to average. */
export interface HistoryFigures {
  decisions: number;
  /** Of which the learner explored (chose on its exploring estimate rather than its mean). */
  explored: number;
  /** The chosen model's predicted quality (its bid's confidence), and the best one any eligible bid predicted. */
  chosenQuality: number | null;
  bestQuality: number | null;
  /** best − chosen: what the choice gave up in predicted quality (exploring, cost, latency). */
  regret: number | null;
  /** The chosen bid's predicted cost, and the cheapest eligible bid's. */
  chosenCost: number | null;
  cheapestCost: number | null;
  /** The reward in force for the outcome (automatic, combined with feedback), where an outcome was recorded. */
  outcome: { mean: number | null; count: number };
  /** The latest explicit feedback score of the execution, where one was given. */
  feedback: { mean: number | null; count: number };
}

export interface HistoryBucket extends HistoryFigures {
  /** 0 … buckets − 1, oldest first; every bucket is listed, empty ones too. */
  index: number;
  /** Decisions per chosen model. */
  models: Record<string, number>;
}

/**
 * What the learner believed of one model for one task class (the mean of its eligible bids' predicted quality), and
 * how that model did when it was chosen: its predictions then, beside the outcomes and feedback (calibration).
 */
export interface HistoryBelief {
  taskClass: string;
  model: string;
  /** Eligible bids it made, and their mean predicted quality. */
  bids: number;
  predictedQuality: number | null;
  /** Times it was chosen, its mean predicted quality then, and what was observed of those. */
  chosen: number;
  chosenQuality: number | null;
  outcome: { mean: number | null; count: number };
  feedback: { mean: number | null; count: number };
}

export interface BiddingHistory {
  totals: HistoryFigures & { models: Record<string, number> };
  buckets: HistoryBucket[];
  /** By task class, then model. */
  beliefs: HistoryBelief[];
}

export interface SaveOutcomeOptions {
  deferrable?: boolean;
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
   * feedback score already given for the execution, so feedback that arrived first is not lost. `deferrable`: no
   * caller's answer waits on this save, so a store may hold it briefly to write it together with others.
   */
  saveOutcome(outcome: OutcomeRecord, options?: SaveOutcomeOptions): Promise<{ feedbackScore: number | null }>;
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
  /**
   * The decisions of a span of time, aggregated: per bucket of time, overall, and per task class and model. The task
   * class is the one adaptation named for the execution, else `<endpoint>:<task type>` as adaptation would name it
   * (`unrecorded:<task type>` for a decision whose execution was never stored).
   */
  history(query: HistoryQuery): Promise<BiddingHistory>;
}
