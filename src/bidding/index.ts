/**
 * The bidding library's public surface, for the gateway wiring: build a BiddingRouter over a store, turn each
 * request into a BiddingRequest and its models into Candidates, then route → execute → recordOutcome, and
 * recordFeedback for POST /v1/feedback.
 */
export { BiddingRouter } from "./router.js";
export type { ShadowOptions } from "./router.js";
export { shadowLabel, type ShadowPlan } from "./shadow.js";
export type { Assignment, BiddingRouterOptions, FeedbackInput, FeedbackResult, RouteDecision, RouteRequest, RouterState, TrainingExample } from "./router.js";
export { HashedNgramFeaturizer } from "./content/hashed.js";
export { EmbeddingFeaturizer } from "./content/embedding.js";
export { NoContentFeaturizer } from "./content/interface.js";
export type { ContentFeaturizer } from "./content/interface.js";
export { parseOutcomeTable, trainFromTable, type TrainingSummary } from "./training.js";
export { candidateFrom } from "./request.js";
export type { BiddingRequest, Candidate } from "./request.js";
export { CriteriaSchema, DEFAULT_QUALITY_TARGET, DEFAULT_WEIGHTS, resolveCriteria } from "./criteria.js";
export type { CriteriaInput, ResolvedCriteria } from "./criteria.js";
export { DECISION_RECORD_VERSION } from "./decision.js";
export type { BidRecord, ChoiceRecord, DecisionRecord, MicrotaskDecision } from "./decision.js";
export { Decomposer, singleTaskPlan } from "./decomposer.js";
export type { Microtask, Planner, TaskPlan } from "./decomposer.js";
export { BiddingError, CriteriaError, FeedbackError, LearnerStateConflictError, NoEligibleModelError, UnknownExecutionError } from "./errors.js";
export type { Exclusion, ExclusionReason } from "./errors.js";
export type { ExecutionOutcome, RewardOptions } from "./tracker.js";
export { LinUcbPolicy } from "./selection/linucb.js";
export { LogisticThompsonPolicy } from "./selection/logistic.js";
export type { SelectionPolicy } from "./selection/interface.js";
export { PostgresBiddingStore } from "./store/postgres.js";
export { MemoryBiddingStore } from "./store/memory.js";
export type { BiddingHistory, BiddingStore, HistoryBelief, HistoryBucket, HistoryFigures, HistoryQuery } from "./store/interface.js";
