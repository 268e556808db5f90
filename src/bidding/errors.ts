/**
 * Errors the bidding library throws, each with a stable code the gateway can answer with unchanged (it maps
 * NoEligibleModelError to a 4xx `no_eligible_model`, UnknownExecutionError to a 404, and so on).
 */
export class BiddingError extends Error {
  override readonly name: string = "BiddingError";
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

/** Why a model's bid was set aside for a microtask. */
export type ExclusionReason =
  | "unavailable" // the model failed to load, was stopped, or is draining or unloaded
  | "context_length" // prompt plus expected output would not fit its context
  | "max_latency"
  | "max_cost"
  | "min_confidence";

export interface Exclusion {
  model: string;
  excludedBy: readonly ExclusionReason[];
}

/** Every candidate was excluded for a microtask; `exclusions` says who was excluded by what. */
export class NoEligibleModelError extends BiddingError {
  override readonly name = "NoEligibleModelError";
  constructor(readonly microtaskId: string, readonly exclusions: readonly Exclusion[]) {
    super("no_eligible_model", describe(microtaskId, exclusions));
  }
}

/** Criteria that parse but cannot be used together (all weights zero). */
export class CriteriaError extends BiddingError {
  override readonly name = "CriteriaError";
  constructor(message: string) {
    super("criteria_invalid", message);
  }
}

/** An outcome or feedback names an execution bidding never decided nor tracked. */
export class UnknownExecutionError extends BiddingError {
  override readonly name = "UnknownExecutionError";
  constructor(readonly executionId: string) {
    super("execution_not_found", `execution ${executionId} is not known to bidding`);
  }
}

export class FeedbackError extends BiddingError {
  override readonly name = "FeedbackError";
  constructor(message: string) {
    super("feedback_invalid", message);
  }
}

/** Another writer saved the learner state since this process loaded it. */
export class LearnerStateConflictError extends BiddingError {
  override readonly name = "LearnerStateConflictError";
  constructor(readonly learner: string, readonly version: number) {
    super("learner_state_conflict", `learner ${learner} version ${version} was saved by another writer; reload before saving`);
  }
}

function describe(microtaskId: string, exclusions: readonly Exclusion[]): string {
  if (exclusions.length === 0) return `no candidate model for microtask ${microtaskId}`;
  const parts = exclusions.map((e) => `${e.model} (${e.excludedBy.join(", ")})`);
  return `no model satisfies the criteria for microtask ${microtaskId}: ${parts.join("; ")}`;
}
