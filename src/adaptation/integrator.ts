import { withFeedback } from "../bidding/tracker.js";
import type { Classification } from "../policy/index.js";
import type { RatedExamples } from "./exemplars/interface.js";
import type { AdaptationLearner } from "./learner.js";
import { learnedChoiceOf, type AdaptationRecord } from "./record.js";
import { AdaptationStateConflictError, type AdaptationStateStore } from "./store/interface.js";

/** An execution as the integrator learns from it: who ran it, on which model, with what, and how long its answer was. */
export interface ExecutionRef {
  executionId: string;
  tenant: string;
  modelId: string;
  record: AdaptationRecord;
  completionTokens: number;
  /** The answer ended on its own (not at max_tokens). */
  finished: boolean;
}

export interface FeedbackIntegrator {
  /** The execution is recorded: learn its automatic reward where that says something (structured output, failures). */
  outcome(execution: ExecutionRef): void;
  /** Someone judged it: keep it as a rated example, and learn the score (revising the automatic reward). */
  feedback(execution: ExecutionRef, classification: Classification, score: number, correction?: unknown): Promise<{ learned: boolean }>;
  readonly frozen: boolean;
}

export interface IntegratorOptions {
  /** Name the state is saved under. Default "default". */
  learner?: string;
  /** Feedback score from which an execution is an exemplar (and its answer length a good one). */
  minScore: number;
  /** Learned updates between saves. Default 20. */
  saveEvery?: number;
  /** Told about a failed automatic save; the state stays unsaved and the next save retries. */
  onSaveError?: (error: unknown) => void;
}

export interface IntegratorState {
  learner: string;
  frozen: boolean;
  version: number;
  unsavedUpdates: number;
  discardedSavedState: boolean;
  classes: number;
}

/** Rewards revised by feedback, remembered so a second score replaces the first instead of adding to it. */
const REVISIONS_KEPT = 10_000;

/**
 * The feedback integrator: rewards into the learner, the learner into PostgreSQL. Learning happens in memory and is
 * saved every `saveEvery` updates, on freeze, unfreeze and reset, and at checkpoint() (shutdown); a crash loses at
 * most the last few updates. A second gateway's save is detected (the version exists): its state is taken over.
 */
export class BanditFeedbackIntegrator implements FeedbackIntegrator {
  private readonly learnerName: string;
  private readonly saveEvery: number;
  private readonly revisions = new Map<string, { reward: number; judged: boolean }>();
  private version = 0;
  private isFrozen = false;
  private dirty = 0;
  private discarded = false;
  private saving: Promise<unknown> = Promise.resolve();

  constructor(
    readonly learner: AdaptationLearner,
    private readonly store: AdaptationStateStore,
    private readonly rated: RatedExamples,
    private readonly options: IntegratorOptions,
  ) {
    this.learnerName = options.learner ?? "default";
    this.saveEvery = options.saveEvery ?? 20;
  }

  get frozen(): boolean {
    return this.isFrozen;
  }

  async load(): Promise<void> {
    const snapshot = await this.store.load(this.learnerName);
    this.learner.reset();
    this.revisions.clear();
    this.dirty = 0;
    this.discarded = false;
    this.version = snapshot?.version ?? 0;
    this.isFrozen = snapshot?.frozen ?? false;
    // State of another layout is left behind (the saved versions keep it) and learning starts over.
    if (snapshot !== null && !this.learner.importState(snapshot.state)) this.discarded = true;
  }

  outcome(execution: ExecutionRef): void {
    const { record } = execution;
    if (this.isFrozen || !record.reward.learned || record.reward.automatic === null) return;
    this.learner.learn(learnedChoiceOf(record, execution.tenant, execution.modelId), record.reward.automatic, 1);
    this.remember(execution.executionId, record.reward.automatic, false);
    this.updated();
  }

  async feedback(execution: ExecutionRef, classification: Classification, score: number, correction?: unknown): Promise<{ learned: boolean }> {
    const { record } = execution;
    // A rating is data, not learning: it is kept while frozen too, and its execution may serve as an exemplar.
    await this.rated.rate({ executionId: execution.executionId, tenant: execution.tenant, taskClass: record.taskClass, classification, score, ...(correction === undefined ? {} : { correction }) });
    if (this.isFrozen) return { learned: false };
    const good = score >= this.options.minScore;
    const choice = learnedChoiceOf(record, execution.tenant, execution.modelId);
    const remembered = this.revisions.get(execution.executionId);
    const previous = remembered?.reward ?? (record.reward.learned ? record.reward.automatic : null);
    // The first judgement of an execution counts it (and its answer's length, if good); a later one only revises.
    if (remembered?.judged !== true) {
      this.learner.countFeedback(execution.tenant, record.taskClass, good);
      if (good && execution.finished) this.learner.observeLength(choice, execution.completionTokens);
    }
    if (previous !== null) this.learner.learn(choice, previous, -1);
    const reward = withFeedback(record.reward.automatic, score);
    this.learner.learn(choice, reward, 1);
    this.remember(execution.executionId, reward, true);
    this.updated();
    return { learned: true };
  }

  async freeze(): Promise<void> {
    this.isFrozen = true;
    await this.checkpoint(true);
  }

  async unfreeze(): Promise<void> {
    this.isFrozen = false;
    await this.checkpoint(true);
  }

  async reset(): Promise<void> {
    this.learner.reset();
    this.revisions.clear();
    this.discarded = false;
    await this.checkpoint(true);
  }

  /** Saves if anything was learned since the last save (or always, when forced). */
  checkpoint(force = false): Promise<void> {
    const next = this.saving.then(async () => {
      if (!force && this.dirty === 0) return;
      const updates = this.dirty;
      this.version = await this.store.save(this.learnerName, this.version, this.learner.exportState(), this.isFrozen);
      this.dirty = Math.max(0, this.dirty - updates);
    });
    this.saving = next.catch(() => undefined);
    return next;
  }

  state(): IntegratorState {
    return {
      learner: this.learnerName,
      frozen: this.isFrozen,
      version: this.version,
      unsavedUpdates: this.dirty,
      discardedSavedState: this.discarded,
      classes: this.learner.size,
    };
  }

  private remember(executionId: string, reward: number, judged: boolean): void {
    this.revisions.delete(executionId);
    if (this.revisions.size >= REVISIONS_KEPT) this.revisions.delete(this.revisions.keys().next().value as string);
    this.revisions.set(executionId, { reward, judged });
  }

  private updated(): void {
    this.dirty++;
    if (this.dirty < this.saveEvery) return;
    this.checkpoint().catch(async (error: unknown) => {
      if (error instanceof AdaptationStateConflictError) {
        // Another gateway saved since: its state is taken over, and the few updates since this one's save are lost.
        await this.load().catch((loadError: unknown) => this.options.onSaveError?.(loadError));
        return;
      }
      this.options.onSaveError?.(error);
    });
  }
}
