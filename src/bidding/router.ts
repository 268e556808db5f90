import { runAuction, type AuctionResult } from "./auction.js";
import type { Bid } from "./bids.js";
import { QualityTargetCalibrator, type CalibrationOptions } from "./calibration.js";
import { NoContentFeaturizer, type ContentFeaturizer } from "./content/interface.js";
import { CriteriaSchema, DEFAULT_QUALITY_TARGET, resolveCriteria, type CriteriaInput, type ResolvedCriteria } from "./criteria.js";
import { buildDecisionRecord, compactValues, type DecisionRecord, type FeatureRecord, type ModelExplanation } from "./decision.js";
import { Decomposer, singleTaskPlan, type TaskPlan } from "./decomposer.js";
import { FeedbackError, LearnerStateConflictError, NoEligibleModelError, UnknownExecutionError } from "./errors.js";
import { PerformanceEstimates, type SpeedEstimate, type SpeedPrior } from "./estimates.js";
import { extractFeatures, FEATURE_DIM, FEATURE_VERSION, featuresFromValues, type LearnerInput, type TaskFeatures } from "./features.js";
import { RecentOutcomes } from "./neighbours.js";
import type { BiddingRequest, Candidate } from "./request.js";
import type { SelectionMode, SelectionPolicy } from "./selection/interface.js";
import { LinUcbPolicy } from "./selection/linucb.js";
import type { BiddingHistory, BiddingStore, HistoryQuery, LearnerState, OutcomeRecord, RewardUpdate, SaveOutcomeOptions, StoredFeatures } from "./store/interface.js";
import { ShadowLedger, type ShadowLesson, type ShadowPlan } from "./shadow.js";
import { PerformanceTracker, withFeedback, type ExecutionOutcome, type RewardOptions } from "./tracker.js";

/**
 * The facade the gateway calls. For a request: plan (decompose), bid and select, returning the models to run and a
 * decision record. After execution: the outcome, which the tracker turns into a reward for the learner. Later:
 * explicit feedback, which revises that reward. Operators: freeze, unfreeze, reset, state.
 *
 * Learning happens in memory and is saved to the store every `saveEvery` learned outcomes, on freeze, unfreeze and
 * reset, and on checkpoint() (call it at shutdown). A crash loses at most the last `saveEvery` updates.
 */

export interface BiddingRouterOptions {
  store: BiddingStore;
  /** What the learner reads of a request's content. Default: nothing, the shape only (content/interface.ts). */
  featurizer?: ContentFeaturizer;
  /**
   * Default: LinUCB on the shape (selection/linucb.ts). The content-reading learner (selection/logistic.ts) is
   * experimental: on the replay bench it does not yet beat LinUCB.
   */
  policy?: SelectionPolicy;
  /** How the quality target's threshold follows outcomes (calibration.ts). */
  calibration?: CalibrationOptions;
  /**
   * Applied to every n-gram a decision record quotes from a request (the gateway replaces PII by placeholders).
   * Default: quoted as read.
   */
  quote?: (text: string) => string;
  /** N-grams a decision record names per explained model. Default 5; 0 names none. */
  explainTerms?: number;
  /** Name under which the learner's state is stored; one per learner. Default "default". */
  learner?: string;
  /** The global level of the criteria (below tenant and request). */
  criteria?: CriteriaInput;
  decomposer?: Decomposer;
  speedPrior?: Partial<SpeedPrior>;
  rewards?: Partial<RewardOptions>;
  /** Learned outcomes between saves of the learner state. Default 20. */
  saveEvery?: number;
  /** Decisions kept in memory until their outcome arrives; older ones are read back from the store. Default 10,000. */
  pendingLimit?: number;
  /**
   * Receives a failed automatic save (every `saveEvery` outcomes) instead of the recordOutcome/recordFeedback call
   * that triggered it, whose own work is done by then; the state stays unsaved and is retried at the next save.
   * Without it, the error rejects that call.
   */
  onSaveError?: (error: unknown) => void;
  /** Shadow runs (shadow.ts): off unless set. */
  shadow?: ShadowOptions;
  now?: () => Date;
}

export interface ShadowOptions {
  /**
   * Share of the single-step decisions that chose a dearer model than the cheapest eligible one, on which the
   * cheapest (when idle) answers too, to be compared. 0 … 1.
   */
  rate: number;
  /** Uniform in [0, 1); default Math.random. */
  random?: () => number;
}

export interface RouteRequest {
  /** The execution id the gateway generated (UUIDv7); the decision record is stored under it. */
  executionId: string;
  request: BiddingRequest;
  /** The models this request may use: capable of it (and, later, allowed by policy), with their live status. */
  candidates: readonly Candidate[];
  /** Criteria from the request (validated with CriteriaSchema), overriding tenant and global. */
  criteria?: CriteriaInput;
  /** The tenant's criteria, overriding the global ones. */
  tenantCriteria?: CriteriaInput;
  /** A plan made elsewhere (e.g. by a model-driven planner), used instead of decomposing. */
  plan?: TaskPlan;
  /** false: keep the request one microtask whatever its shape. Default true. */
  decompose?: boolean;
}

export interface Assignment {
  microtaskId: string;
  modelId: string;
  mode: SelectionMode;
  confidence: number;
  expectedCost: number;
  expectedLatencyMs: number;
}

export interface RouteDecision {
  executionId: string;
  plan: TaskPlan;
  /** One per model-executed microtask, in plan order. */
  assignments: Assignment[];
  /** The first assignment's model: all a single-step request needs. */
  modelId: string;
  record: DecisionRecord;
  /** A cheaper model to run on the same request and compare (recordShadowComparison); null for none. */
  shadow: ShadowPlan | null;
}

export interface FeedbackInput {
  executionId: string;
  /** 0 (useless) … 1 (exactly right). */
  score: number;
  tenant?: string | null;
  comment?: string | null;
}

export interface FeedbackResult {
  executionId: string;
  /** Outcomes of the execution the feedback now counts for (0 when it has not finished yet). */
  outcomes: number;
  /** Of those, how many the learner took or revised now (none while frozen). */
  learned: number;
}

export interface RouterState {
  learner: string;
  policy: string;
  frozen: boolean;
  epoch: number;
  /** Version of the saved state this router holds (0: never saved). */
  version: number;
  unsavedUpdates: number;
  /** True when saved policy state could not be used (another policy or feature layout) and learning restarted. */
  discardedSavedState: boolean;
  /** The content featurizer's layout the learner reads requests in. */
  features: string;
  /** The quality target's calibration: the factor the target is applied with (1: predictions unbiased so far). */
  qualityCalibration: number;
  models: Record<string, { observations: number; msPerPromptToken: number; msPerCompletionToken: number }>;
}

/** A choice made under a quality target: the target and the best eligible prediction, for the calibration. */
interface ChoiceTarget {
  target: number;
  bestPredicted: number;
}

interface PendingMicrotask {
  features: TaskFeatures;
  /** What each model bid to take, to tell whether the chosen one kept its promise. */
  bids: ReadonlyArray<Pick<Bid, "modelId" | "latencyMs">>;
  target?: ChoiceTarget;
}

/** A training example: what the learner would have seen for a request, and how well a model did on it. */
export interface TrainingExample {
  request: BiddingRequest;
  modelId: string;
  /** 0 … 1. */
  score: number;
  /** When known, the speed estimates learn from them too. */
  usage?: { promptTokens: number; completionTokens: number; latencyMs: number };
}

export class BiddingRouter {
  readonly learner: string;
  readonly featurizer: ContentFeaturizer;
  private readonly store: BiddingStore;
  private readonly policy: SelectionPolicy;
  private readonly calibrator: QualityTargetCalibrator;
  private readonly quote: (text: string) => string;
  private readonly explainTerms: number;
  private readonly extract: (request: BiddingRequest) => TaskFeatures;
  private readonly decomposer: Decomposer;
  private readonly estimates: PerformanceEstimates;
  private readonly tracker: PerformanceTracker;
  private readonly globalCriteria: CriteriaInput | undefined;
  private readonly defaultQualityTarget: number | null;
  private readonly defaultCriteria: ResolvedCriteria;
  private readonly saveEvery: number;
  private readonly pendingLimit: number;
  private readonly now: () => Date;
  private readonly onSaveError: ((error: unknown) => void) | undefined;
  private readonly pending = new Map<string, Map<string, PendingMicrotask>>();
  private readonly shadows: ShadowLedger;
  /** Kept only with a dense featurizer, whose decisions it explains by precedent. */
  private readonly recent: RecentOutcomes | null;
  private readonly shadowRate: number;
  private readonly random: () => number;
  private version = 0;
  private epoch = 0;
  private isFrozen = false;
  private dirty = 0;
  private discarded = false;
  private saving: Promise<unknown> = Promise.resolve();

  constructor(options: BiddingRouterOptions) {
    this.store = options.store;
    this.learner = options.learner ?? "default";
    this.featurizer = options.featurizer ?? new NoContentFeaturizer();
    const featurizer = this.featurizer;
    this.extract = (request) => extractFeatures(request, featurizer);
    this.policy = options.policy ?? new LinUcbPolicy();
    this.calibrator = new QualityTargetCalibrator(options.calibration);
    this.quote = options.quote ?? ((text) => text);
    this.explainTerms = options.explainTerms ?? 5;
    this.decomposer = options.decomposer ?? new Decomposer();
    this.estimates = new PerformanceEstimates(options.speedPrior);
    this.now = options.now ?? (() => new Date());
    this.tracker = new PerformanceTracker(this.store, this.estimates, options.rewards, this.now);
    this.globalCriteria = options.criteria === undefined ? undefined : CriteriaSchema.parse(options.criteria);
    this.defaultQualityTarget = defaultQualityTarget(this.policy);
    this.defaultCriteria = resolveCriteria({ global: this.globalCriteria }, this.defaultQualityTarget);
    this.saveEvery = options.saveEvery ?? 20;
    this.pendingLimit = options.pendingLimit ?? 10_000;
    this.onSaveError = options.onSaveError;
    this.shadowRate = options.shadow?.rate ?? 0;
    this.random = options.shadow?.random ?? Math.random;
    this.shadows = new ShadowLedger(this.pendingLimit);
    this.recent = this.featurizer.needsEmbedding && this.explainTerms > 0 ? new RecentOutcomes(this.featurizer.dimension) : null;
  }

  /** A router with the learner state saved in the store, if any. */
  static async open(options: BiddingRouterOptions): Promise<BiddingRouter> {
    const router = new BiddingRouter(options);
    await router.load();
    return router;
  }

  /** Loads the latest saved learner state, replacing what is in memory. */
  async load(): Promise<void> {
    const snapshot = await this.store.loadLearner(this.learner);
    this.policy.reset();
    this.estimates.reset();
    this.calibrator.reset();
    this.discarded = false;
    if (snapshot === null) {
      this.version = 0;
      this.epoch = 0;
      this.setFrozen(false);
      this.dirty = 0;
      return;
    }
    this.version = snapshot.version;
    this.epoch = snapshot.state.epoch;
    this.estimates.importState(snapshot.state.estimates);
    // State learned by another policy, or on features of another layout, would be misread: it is left behind (the
    // saved versions keep it) and learning starts over; speed estimates do not depend on features and are kept.
    const usable = snapshot.state.policy.name === this.policy.name && snapshot.state.featureVersion === FEATURE_VERSION &&
      snapshot.state.contentLayout === this.featurizer.layout;
    if (!usable || !this.policy.importState(snapshot.state.policy.state)) this.discarded = true;
    else this.calibrator.importState(snapshot.state.calibration);
    this.setFrozen(snapshot.frozen);
    this.dirty = 0;
  }

  /** A model's measured speed (the prior until observed), for budgets set outside bidding (adaptation's exemplars). */
  speed(modelId: string): SpeedEstimate {
    return this.estimates.speed(modelId);
  }

  /** Features of a request, as the learner sees them (for executions that name their model: see recordOutcome). */
  features(request: BiddingRequest): TaskFeatures {
    return this.extract(request);
  }

  /**
   * Plan, bid and select, in memory only (no I/O). Throws NoEligibleModelError when some microtask has no model
   * within the criteria, CriteriaError for unusable criteria.
   */
  decide(input: RouteRequest): RouteDecision {
    const criteria = input.criteria === undefined && input.tenantCriteria === undefined
      ? this.defaultCriteria
      : resolveCriteria({ request: input.criteria, tenant: input.tenantCriteria, global: this.globalCriteria }, this.defaultQualityTarget);
    const plan = input.plan ?? this.plan(input);
    const target = criteria.qualityTarget;
    const slack = target === null ? null : this.calibrator.slack(target);
    const auctions: Array<AuctionResult | undefined> = new Array(plan.microtasks.length);
    const explanations: Array<ModelExplanation[] | undefined> = new Array(plan.microtasks.length);
    const assignments: Assignment[] = [];
    const remembered = new Map<string, PendingMicrotask>();
    for (let i = 0; i < plan.microtasks.length; i++) {
      const microtask = plan.microtasks[i]!;
      if (microtask.executor !== "model") continue;
      if (microtask.features === null) throw new TypeError(`microtask ${microtask.id} runs on a model but has no features`);
      if (input.candidates.length === 0) throw new NoEligibleModelError(microtask.id, []);
      const auction = runAuction(microtask.id, microtask.features, input.request.maxTokens, input.candidates, criteria, this.policy, this.estimates, slack);
      auctions[i] = auction;
      explanations[i] = this.explain(auction, microtask.features);
      const chosen = auction.bids[auction.selection.index]!;
      assignments.push({
        microtaskId: microtask.id,
        modelId: chosen.modelId,
        mode: auction.selection.mode,
        confidence: chosen.confidence,
        expectedCost: chosen.cost,
        expectedLatencyMs: chosen.latencyMs,
      });
      const bestPredicted = target === null ? 0 : bestPrediction(auction.bids);
      if (target !== null) this.calibrator.noteBest(bestPredicted);
      remembered.set(microtask.id, { features: microtask.features, bids: auction.bids, ...(target === null ? {} : { target: { target, bestPredicted } }) });
    }
    const record = buildDecisionRecord({
      executionId: input.executionId,
      createdAt: this.now(),
      policy: { name: this.policy.name, frozen: this.isFrozen, epoch: this.epoch },
      criteria,
      qualitySlack: slack,
      contentLayout: this.featurizer.layout,
      plan,
      auctions,
      explanations,
    });
    this.remember(input.executionId, remembered);
    const shadow = this.shadowFor(input, assignments, auctions);
    if (shadow !== null) {
      this.shadows.open(input.executionId, shadow.modelId, remembered.get(shadow.microtaskId)!.features);
      record.shadow = { microtask: shadow.microtaskId, model: shadow.modelId };
    }
    return { executionId: input.executionId, plan, assignments, modelId: assignments[0]?.modelId ?? "", record, shadow };
  }

  /** decide(), then store the decision record, so it can be shown and feedback accepted even if execution fails. */
  async route(input: RouteRequest): Promise<RouteDecision> {
    const decision = this.decide(input);
    await this.store.saveDecision(decision.record);
    return decision;
  }

  /**
   * Records one executed microtask and learns from it. For an execution bidding decided, the features are those
   * it bid with (from memory, or from the stored decision record after a restart). For one whose model the caller
   * named, bypassing bidding but still tracked, pass `request`: its features are computed and no store lookup is
   * made. Throws UnknownExecutionError when neither is available. `deferrable`: the caller was answered already and
   * nobody waits on this (see BiddingStore.saveOutcome).
   */
  async recordOutcome(outcome: ExecutionOutcome, request?: BiddingRequest, options: SaveOutcomeOptions = {}): Promise<OutcomeRecord> {
    const microtaskId = outcome.microtaskId ?? "task";
    let known = this.pending.get(outcome.executionId)?.get(microtaskId);
    if (known === undefined && request === undefined) known = await this.fromStoredDecision(outcome.executionId, microtaskId);
    const features = known?.features ?? (request === undefined ? undefined : this.extract(request));
    if (features === undefined) throw new UnknownExecutionError(outcome.executionId);
    this.forget(outcome.executionId, microtaskId);

    const bid = known?.bids.find((b) => b.modelId === outcome.modelId);
    const tracked = await this.tracker.record(outcome, {
      features,
      stored: this.storedFeatures(features),
      expectedLatencyMs: bid?.latencyMs ?? null,
      learn: !this.isFrozen,
      learnerEpoch: this.epoch,
      deferrable: options.deferrable ?? false,
    });
    if (tracked.learnReward !== null) {
      this.policy.update(outcome.modelId, features, tracked.learnReward);
      this.recent?.record(outcome.executionId, microtaskId, outcome.modelId, features.content.values, tracked.learnReward);
      if (known?.target !== undefined) this.calibrator.observe(known.target.target, known.target.bestPredicted, tracked.learnReward);
      await this.learned(1 + this.teach(this.shadows.served(outcome.executionId, tracked.learnReward)));
    }
    return tracked.record;
  }

  /**
   * Explicit feedback for an execution: stored, and the rewards of its outcomes revised. Throws FeedbackError for
   * a score outside [0, 1] and UnknownExecutionError for an execution bidding never saw (the gateway answers 404).
   */
  async recordFeedback(input: FeedbackInput): Promise<FeedbackResult> {
    if (!(input.score >= 0 && input.score <= 1)) throw new FeedbackError("feedback score must be a number from 0 to 1");
    const changes: Array<{ microtaskId: string; modelId: string; x: LearnerInput; previous: number | null; reward: number }> = [];
    const frozen = this.isFrozen;
    const epoch = this.epoch;
    const outcomes = await this.store.applyFeedback(
      { executionId: input.executionId, score: input.score, tenant: input.tenant ?? null, comment: input.comment ?? null },
      (rows) => rows.map((row): RewardUpdate => {
        const reward = withFeedback(row.automaticReward, input.score);
        // Frozen: nothing is learned. An outcome from before a reset stays forgotten, as the reset intended, and
        // one whose features were made in another layout is not misread.
        const x = frozen || row.learnerEpoch !== epoch ? null : this.learnerInput(row.features);
        if (x === null) {
          return { microtaskId: row.microtaskId, reward, learnedReward: row.learnedReward, learnerEpoch: row.learnerEpoch };
        }
        changes.push({ microtaskId: row.microtaskId, modelId: row.modelId, x, previous: row.learnedReward, reward });
        return { microtaskId: row.microtaskId, reward, learnedReward: reward, learnerEpoch: epoch };
      }),
    );
    if (outcomes === null) throw new UnknownExecutionError(input.executionId);
    const targets = changes.length === 0 ? new Map<string, ChoiceTarget>() : await this.storedTargets(input.executionId);
    let shadowLessons = 0;
    for (const change of changes) {
      const target = targets.get(change.microtaskId);
      if (change.previous === null) {
        this.policy.update(change.modelId, change.x, change.reward);
        if (target !== undefined) this.calibrator.observe(target.target, target.bestPredicted, change.reward);
        this.recent?.record(input.executionId, change.microtaskId, change.modelId, change.x.content.values, change.reward);
      } else {
        this.policy.revise(change.modelId, change.x, change.previous, change.reward);
        if (target !== undefined) this.calibrator.revise(target.target, change.previous, change.reward);
        this.recent?.revise(input.executionId, change.microtaskId, change.reward);
      }
      shadowLessons += this.teach(this.shadows.served(input.executionId, change.reward));
    }
    if (changes.length > 0) await this.learned(changes.length + shadowLessons);
    return { executionId: input.executionId, outcomes: outcomes.length, learned: changes.length };
  }

  /**
   * How the shadow model's answer compared with the served one (shadow.ts); `null` when it did not run (its model
   * was busy or failed). Learned once the served answer's reward is known, whichever comes first.
   */
  async recordShadowComparison(executionId: string, agrees: boolean | null): Promise<void> {
    if (agrees === null) {
      this.shadows.drop(executionId);
      return;
    }
    const learned = this.teach(this.shadows.compared(executionId, agrees));
    if (learned > 0) await this.learned(learned);
  }

  /** Judged outcomes of past executions in the store (for trainOnOutcomes). */
  listJudgedOutcomes(limit = 1_000_000): Promise<OutcomeRecord[]> {
    return this.store.listJudgedOutcomes(limit);
  }

  getDecision(executionId: string): Promise<DecisionRecord | null> {
    return this.store.getDecision(executionId);
  }

  /** The stored decisions of a span of time, aggregated per bucket of time and per task class and model. */
  history(query: HistoryQuery): Promise<BiddingHistory> {
    return this.store.history(query);
  }

  /** Stops learning (choices continue on what was learned; outcomes and feedback are still recorded). */
  async freeze(): Promise<void> {
    this.setFrozen(true);
    await this.checkpoint(true);
  }

  async unfreeze(): Promise<void> {
    this.setFrozen(false);
    await this.checkpoint(true);
  }

  /**
   * Learns from examples outside any execution — a site's history of outcomes (training.ts) — as if each had been
   * an execution's outcome, and saves the result as the next version. Frozen: nothing is learned. Returns how many
   * were learned.
   */
  async train(examples: Iterable<TrainingExample>): Promise<number> {
    if (this.isFrozen) return 0;
    let learned = 0;
    for (const example of examples) {
      const score = example.score;
      if (!(score >= 0 && score <= 1)) throw new RangeError(`a training score must be from 0 to 1, got ${score}`);
      const features = this.extract(example.request);
      this.policy.update(example.modelId, features, score);
      const usage = example.usage;
      if (usage !== undefined && usage.latencyMs >= 0) this.estimates.observe(example.modelId, features, usage.promptTokens, usage.completionTokens, usage.latencyMs);
      learned++;
    }
    this.dirty += learned;
    await this.checkpoint(true);
    return learned;
  }

  /**
   * Learns the judged outcomes of past executions (their stored features and the reward in force, feedback
   * included) and saves the result as the next version. Outcomes whose features were made in another layout (before
   * a change of featurizer) are skipped and counted. Frozen: nothing is learned.
   */
  async trainOnOutcomes(outcomes: readonly OutcomeRecord[]): Promise<{ learned: number; skipped: number }> {
    if (this.isFrozen) return { learned: 0, skipped: outcomes.length };
    let learned = 0;
    for (const outcome of outcomes) {
      const x = outcome.reward === null ? null : this.learnerInput(outcome.features);
      if (x === null) continue;
      this.policy.update(outcome.modelId, x, outcome.reward!);
      learned++;
    }
    this.dirty += learned;
    await this.checkpoint(true);
    return { learned, skipped: outcomes.length - learned };
  }

  /** Forgets everything learned (policy and speed estimates) and saves the empty state as the next version. */
  async reset(): Promise<void> {
    this.policy.reset();
    this.estimates.reset();
    this.calibrator.reset();
    this.shadows.clear();
    this.epoch += 1;
    this.discarded = false;
    await this.checkpoint(true);
  }

  /** Saves the learner state if anything was learned since the last save (or always, when forced). */
  checkpoint(force = false): Promise<void> {
    const next = this.saving.then(async () => {
      if (!force && this.dirty === 0) return;
      const pendingUpdates = this.dirty;
      this.version = await this.store.saveLearner(this.learner, this.version, this.exportState(), this.isFrozen);
      this.dirty -= pendingUpdates;
    });
    this.saving = next.catch(() => undefined);
    return next;
  }

  exportState(): LearnerState {
    return {
      format: 1,
      featureVersion: FEATURE_VERSION,
      contentLayout: this.featurizer.layout,
      epoch: this.epoch,
      policy: { name: this.policy.name, state: this.policy.exportState() },
      estimates: this.estimates.exportState(),
      calibration: this.calibrator.exportState(),
    };
  }

  state(): RouterState {
    const observations = this.policy.observations();
    const models: RouterState["models"] = {};
    for (const id of new Set([...Object.keys(observations), ...Object.keys(this.estimates.exportState().models)])) {
      const speed = this.estimates.speed(id);
      models[id] = { observations: observations[id] ?? 0, msPerPromptToken: speed.msPerPromptToken, msPerCompletionToken: speed.msPerCompletionToken };
    }
    return {
      learner: this.learner,
      policy: this.policy.name,
      frozen: this.isFrozen,
      epoch: this.epoch,
      version: this.version,
      unsavedUpdates: this.dirty,
      discardedSavedState: this.discarded,
      features: this.featurizer.layout,
      qualityCalibration: this.calibrator.multiplier,
      models,
    };
  }

  private plan(input: RouteRequest): TaskPlan {
    const features = this.extract(input.request);
    return input.decompose === false ? singleTaskPlan(input.request, features) : this.decomposer.plan(input.request, features, this.extract);
  }

  /**
   * Why this request went where it did, for the chosen model and — when a cheaper eligible model was passed over —
   * that model: the n-grams that moved its prediction most (a policy that can attribute its prediction, and a
   * featurizer that kept the text of its features), or, with embeddings, the nearest past requests it answered.
   */
  private explain({ bids, selection }: AuctionResult, features: TaskFeatures): ModelExplanation[] | undefined {
    const content = features.content;
    if (this.explainTerms === 0 || content.indices.length === 0) return undefined;
    const byTerms = this.policy.contributions !== undefined && content.describe !== undefined;
    if (!byTerms && this.recent === null) return undefined;
    const chosen = bids[selection.index]!;
    let cheapest: Bid | undefined;
    for (const bid of bids) if (bid.eligible && (cheapest === undefined || bid.cost < cheapest.cost)) cheapest = bid;
    const models = cheapest === undefined || cheapest === chosen ? [chosen.modelId] : [chosen.modelId, cheapest.modelId];
    if (byTerms) return models.map((model) => ({ model, terms: this.topTerms(model, features) }));
    const explained = models.map((model) => ({ model, neighbours: this.recent!.nearest(model, content.values, this.explainTerms) }));
    return explained.some((e) => e.neighbours.length > 0) ? explained : undefined;
  }

  private topTerms(model: string, features: TaskFeatures): NonNullable<ModelExplanation["terms"]> {
    const content = features.content;
    const weights = this.policy.contributions!(model, features);
    const describable = Math.min(content.termCount ?? 0, weights.length);
    // The few largest by magnitude, by insertion into a short sorted list: no sort of every feature.
    const top: number[] = [];
    for (let k = 0; k < describable; k++) {
      const magnitude = Math.abs(weights[k]!);
      if (magnitude === 0 || (top.length === this.explainTerms && magnitude <= Math.abs(weights[top.at(-1)!]!))) continue;
      let at = top.length;
      while (at > 0 && Math.abs(weights[top[at - 1]!]!) < magnitude) at--;
      top.splice(at, 0, k);
      if (top.length > this.explainTerms) top.pop();
    }
    return top.map((k) => ({ text: this.quote(content.describe!(content.indices[k]!) ?? "?"), weight: Math.round(weights[k]! * 1000) / 1000 }));
  }

  private storedFeatures(features: TaskFeatures): StoredFeatures {
    return {
      featureVersion: FEATURE_VERSION,
      contentLayout: this.featurizer.layout,
      vector: [...features.vector],
      indices: [...features.content.indices],
      values: compactValues(features.content.values),
    };
  }

  /** Stored features as the learner takes them, or null when they were made in another layout. */
  private learnerInput(stored: StoredFeatures | number[]): LearnerInput | null {
    if (Array.isArray(stored) || stored.featureVersion !== FEATURE_VERSION || stored.contentLayout !== this.featurizer.layout) return null;
    if (stored.vector.length !== FEATURE_DIM || stored.indices.length !== stored.values.length) return null;
    return { vector: Float64Array.from(stored.vector), content: { indices: Int32Array.from(stored.indices), values: Float32Array.from(stored.values) } };
  }

  private setFrozen(frozen: boolean): void {
    this.isFrozen = frozen;
    if (frozen) this.policy.freeze();
    else this.policy.unfreeze();
  }

  private async learned(updates: number): Promise<void> {
    this.dirty += updates;
    if (this.dirty < this.saveEvery) return;
    try {
      await this.checkpoint();
    } catch (error) {
      // Another process saved a newer version — training (`atomic bidding train`) on this learner's database: that
      // version is taken over, and the few updates since this process's last save are given up for it. Without
      // this a gateway would never save again after a training.
      if (error instanceof LearnerStateConflictError) await this.load();
      if (this.onSaveError === undefined) throw error;
      this.onSaveError(error);
    }
  }

  /**
   * The shadow for a decision, if it gets one: a single-step request sent to a dearer model than the cheapest
   * eligible one, which is idle, drawn at the shadow rate.
   */
  private shadowFor(input: RouteRequest, assignments: readonly Assignment[], auctions: ReadonlyArray<AuctionResult | undefined>): ShadowPlan | null {
    if (this.shadowRate <= 0 || this.isFrozen || assignments.length !== 1) return null;
    const assignment = assignments[0]!;
    const auction = auctions.find((a) => a !== undefined)!;
    const chosen = auction.bids[auction.selection.index]!;
    let cheapest: Bid | undefined;
    for (const bid of auction.bids) if (bid.eligible && bid.cost < (cheapest ?? chosen).cost) cheapest = bid;
    if (cheapest === undefined) return null;
    const candidate = input.candidates.find((c) => c.id === cheapest.modelId);
    if (candidate === undefined || candidate.state !== "ready" || candidate.queued > 0) return null;
    if (this.random() >= this.shadowRate) return null;
    return { microtaskId: assignment.microtaskId, modelId: cheapest.modelId };
  }

  /** Applies a shadow lesson, if any, to the policy; how many updates it made (0 or 1). */
  private teach(lesson: ShadowLesson | null): number {
    if (lesson === null || this.isFrozen) return 0;
    if (lesson.previous === null) this.policy.update(lesson.modelId, lesson.x, lesson.label);
    else this.policy.revise(lesson.modelId, lesson.x, lesson.previous, lesson.label);
    return 1;
  }

  private remember(executionId: string, microtasks: Map<string, PendingMicrotask>): void {
    if (microtasks.size === 0) return;
    this.pending.set(executionId, microtasks);
    // Maps iterate in insertion order: the first key is the oldest decision still waiting.
    while (this.pending.size > this.pendingLimit) this.pending.delete(this.pending.keys().next().value as string);
  }

  private forget(executionId: string, microtaskId: string): void {
    const microtasks = this.pending.get(executionId);
    if (microtasks === undefined) return;
    microtasks.delete(microtaskId);
    if (microtasks.size === 0) this.pending.delete(executionId);
  }

  /** After a restart, or once evicted from memory, the decision record still has what the learner needs. */
  private async fromStoredDecision(executionId: string, microtaskId: string): Promise<PendingMicrotask | undefined> {
    const record = await this.store.getDecision(executionId);
    const microtask = record?.microtasks.find((m) => m.id === microtaskId);
    if (microtask?.features == null) return undefined;
    const bids = microtask.bids.map((b) => ({ modelId: b.model, latencyMs: b.latencyMs }));
    const target = choiceTarget(record!, microtask);
    return { features: this.featuresFromRecord(microtask.features), bids, ...(target === undefined ? {} : { target }) };
  }

  /** The microtasks of a stored decision that were chosen under a quality target. */
  private async storedTargets(executionId: string): Promise<Map<string, ChoiceTarget>> {
    const targets = new Map<string, ChoiceTarget>();
    const record = await this.store.getDecision(executionId);
    for (const microtask of record?.microtasks ?? []) {
      const target = choiceTarget(record!, microtask);
      if (target !== undefined) targets.set(microtask.id, target);
    }
    return targets;
  }

  private featuresFromRecord(record: FeatureRecord): TaskFeatures {
    const content = record.content !== undefined && record.content.layout === this.featurizer.layout
      ? { indices: Int32Array.from(record.content.indices), values: Float32Array.from(record.content.values) }
      : undefined;
    const features = featuresFromValues(record, content);
    if (record.vector.length === FEATURE_DIM) features.vector = Float64Array.from(record.vector);
    return features;
  }
}

function choiceTarget(record: DecisionRecord, microtask: DecisionRecord["microtasks"][number]): ChoiceTarget | undefined {
  const { qualityTarget, qualitySlack } = record.criteria;
  const eligible = microtask.bids.filter((b) => b.eligible).map((b) => b.confidence);
  if (qualityTarget == null || qualitySlack == null || eligible.length === 0) return undefined;
  return { target: qualityTarget, bestPredicted: Math.max(...eligible) };
}

/**
 * What a policy chooses by where no level of the criteria sets a quality target or weights: the default target for
 * a learner whose predictions are success probabilities (a weight trades predicted quality for cost at a fixed rate
 * whatever the level, and on the real eval table sent a third of the hardest kinds to a model right on ~1 % of
 * them); null, the default weights, for any other (LinUCB's predictions are not probabilities).
 */
export function defaultQualityTarget(policy: SelectionPolicy): number | null {
  return policy.predictsProbabilities ? DEFAULT_QUALITY_TARGET : null;
}

/** The best eligible bid's predicted quality: what a quality target is a share of. */
function bestPrediction(bids: readonly Bid[]): number {
  let best = 0;
  for (const bid of bids) if (bid.eligible && bid.confidence > best) best = bid.confidence;
  return best;
}
