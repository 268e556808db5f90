import type { DecisionRecord } from "../decision.js";
import { LearnerStateConflictError } from "../errors.js";
import type {
  BiddingStore,
  FeedbackRecord,
  LearnerSnapshot,
  LearnerState,
  NewFeedback,
  OutcomeRecord,
  RewardUpdate,
} from "./interface.js";

/**
 * The store in process memory, with the PostgreSQL store's semantics (versions, conflicts, unknown executions).
 * Values are copied through JSON on the way in and out, as a database would, so callers cannot share state with it
 * by accident. For unit tests and the replay bench; nothing survives the process.
 */
export class MemoryBiddingStore implements BiddingStore {
  private readonly learners = new Map<string, LearnerSnapshot>();
  private readonly decisions = new Map<string, string>();
  private readonly outcomes = new Map<string, Map<string, OutcomeRecord>>();
  private readonly feedback = new Map<string, FeedbackRecord[]>();

  constructor(private readonly now: () => Date = () => new Date()) {}

  async loadLearner(learner: string): Promise<LearnerSnapshot | null> {
    const snapshot = this.learners.get(learner);
    return snapshot === undefined ? null : { ...snapshot, state: copy(snapshot.state) };
  }

  async saveLearner(learner: string, expectedVersion: number, state: LearnerState, frozen: boolean): Promise<number> {
    const current = this.learners.get(learner)?.version ?? 0;
    if (current !== expectedVersion) throw new LearnerStateConflictError(learner, expectedVersion + 1);
    const version = expectedVersion + 1;
    this.learners.set(learner, { version, state: copy(state), frozen, savedAt: this.now() });
    return version;
  }

  async saveDecision(record: DecisionRecord): Promise<void> {
    this.decisions.set(record.executionId, JSON.stringify(record));
  }

  async getDecision(executionId: string): Promise<DecisionRecord | null> {
    const text = this.decisions.get(executionId);
    return text === undefined ? null : (JSON.parse(text) as DecisionRecord);
  }

  async hasExecution(executionId: string): Promise<boolean> {
    return this.decisions.has(executionId) || this.outcomes.has(executionId);
  }

  async saveOutcome(outcome: OutcomeRecord): Promise<{ feedbackScore: number | null }> {
    let rows = this.outcomes.get(outcome.executionId);
    if (rows === undefined) {
      rows = new Map();
      this.outcomes.set(outcome.executionId, rows);
    }
    rows.set(outcome.microtaskId, { ...copy(outcome), createdAt: outcome.createdAt });
    return { feedbackScore: this.feedback.get(outcome.executionId)?.at(-1)?.score ?? null };
  }

  async getOutcomes(executionId: string): Promise<OutcomeRecord[]> {
    return [...(this.outcomes.get(executionId)?.values() ?? [])].map((row) => ({ ...copy(row), createdAt: row.createdAt }));
  }

  async updateOutcomeReward(executionId: string, update: RewardUpdate): Promise<void> {
    const row = this.outcomes.get(executionId)?.get(update.microtaskId);
    if (row === undefined) return;
    row.reward = update.reward;
    row.learnedReward = update.learnedReward;
    row.learnerEpoch = update.learnerEpoch;
  }

  async applyFeedback(feedback: NewFeedback, plan: (outcomes: OutcomeRecord[]) => RewardUpdate[]): Promise<OutcomeRecord[] | null> {
    if (!(await this.hasExecution(feedback.executionId))) return null;
    const before = await this.getOutcomes(feedback.executionId);
    const updates = plan(before);
    const rows = this.feedback.get(feedback.executionId) ?? [];
    rows.push({ ...feedback, createdAt: this.now() });
    this.feedback.set(feedback.executionId, rows);
    for (const update of updates) await this.updateOutcomeReward(feedback.executionId, update);
    return before;
  }

  async listJudgedOutcomes(limit: number): Promise<OutcomeRecord[]> {
    const judged = [...this.feedback.keys()].flatMap((id) => [...(this.outcomes.get(id)?.values() ?? [])]).filter((row) => row.reward !== null);
    return judged.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime()).slice(0, limit).map((row) => ({ ...copy(row), createdAt: row.createdAt }));
  }

  async listFeedback(executionId: string): Promise<FeedbackRecord[]> {
    return (this.feedback.get(executionId) ?? []).map((row) => ({ ...row }));
  }
}

function copy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
