import type { DecisionRecord } from "../decision.js";
import { LearnerStateConflictError } from "../errors.js";
import type {
  BiddingHistory,
  BiddingStore,
  FeedbackRecord,
  HistoryBelief,
  HistoryFigures,
  HistoryQuery,
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

  /**
   * As the PostgreSQL store aggregates it, without executions to read: every task class is `unrecorded:<task type>`,
   * and a query for a tenant finds nothing.
   */
  async history(query: HistoryQuery): Promise<BiddingHistory> {
    const since = query.since.getTime();
    const span = (query.until.getTime() - since) / query.buckets;
    const rows: HistoryRow[] = [];
    if (query.tenant === undefined) {
      for (const text of this.decisions.values()) {
        const record = JSON.parse(text) as DecisionRecord;
        const at = Date.parse(record.createdAt);
        if (at < since || at >= query.until.getTime()) continue;
        const score = this.feedback.get(record.executionId)?.at(-1)?.score ?? null;
        for (const microtask of record.microtasks) {
          if (microtask.choice === null) continue;
          const model = microtask.choice.model;
          const eligible = microtask.bids.filter((bid) => bid.eligible);
          const chosen = microtask.bids.find((bid) => bid.model === model);
          rows.push({
            bucket: Math.min(Math.floor((at - since) / span), query.buckets - 1),
            model,
            explored: microtask.choice.mode === "explore",
            taskClass: `unrecorded:${microtask.features?.taskType ?? "unknown"}`,
            bids: eligible.map((bid) => ({ model: bid.model, quality: bid.confidence })),
            chosenQuality: chosen?.confidence ?? null,
            bestQuality: eligible.length === 0 ? null : Math.max(...eligible.map((bid) => bid.confidence)),
            chosenCost: chosen?.cost ?? null,
            cheapestCost: eligible.length === 0 ? null : Math.min(...eligible.map((bid) => bid.cost)),
            reward: this.outcomes.get(record.executionId)?.get(microtask.id)?.reward ?? null,
            score,
          });
        }
      }
    }
    const models = (of: HistoryRow[]) => {
      const counts: Record<string, number> = {};
      for (const row of [...of].sort((a, b) => a.model.localeCompare(b.model))) counts[row.model] = (counts[row.model] ?? 0) + 1;
      return counts;
    };
    const beliefs = new Map<string, { taskClass: string; model: string; quality: number[]; chosen: HistoryRow[]; chosenQuality: number[] }>();
    const entryOf = (taskClass: string, model: string) => {
      const key = JSON.stringify([taskClass, model]);
      const entry = beliefs.get(key) ?? { taskClass, model, quality: [], chosen: [], chosenQuality: [] };
      beliefs.set(key, entry);
      return entry;
    };
    for (const row of rows) {
      for (const bid of row.bids) entryOf(row.taskClass, bid.model).quality.push(bid.quality);
      const entry = entryOf(row.taskClass, row.model);
      entry.chosen.push(row);
      if (row.chosenQuality !== null) entry.chosenQuality.push(row.chosenQuality);
    }
    return {
      totals: { ...figures(rows), models: models(rows) },
      buckets: Array.from({ length: query.buckets }, (_, index) => {
        const of = rows.filter((row) => row.bucket === index);
        return { index, ...figures(of), models: models(of) };
      }),
      beliefs: [...beliefs.values()]
        .sort((a, b) => (a.taskClass === b.taskClass ? (a.model < b.model ? -1 : 1) : a.taskClass < b.taskClass ? -1 : 1))
        .map((entry): HistoryBelief => ({
          taskClass: entry.taskClass,
          model: entry.model,
          bids: entry.quality.length,
          predictedQuality: mean(entry.quality),
          chosen: entry.chosen.length,
          chosenQuality: mean(entry.chosenQuality),
          outcome: observed(entry.chosen.map((row) => row.reward)),
          feedback: observed(entry.chosen.map((row) => row.score)),
        })),
    };
  }
}

interface HistoryRow {
  bucket: number;
  model: string;
  explored: boolean;
  taskClass: string;
  bids: Array<{ model: string; quality: number }>;
  chosenQuality: number | null;
  bestQuality: number | null;
  chosenCost: number | null;
  cheapestCost: number | null;
  reward: number | null;
  score: number | null;
}

function mean(values: ReadonlyArray<number | null>): number | null {
  const present = values.filter((value): value is number => value !== null);
  return present.length === 0 ? null : present.reduce((sum, value) => sum + value, 0) / present.length;
}

function observed(values: ReadonlyArray<number | null>): { mean: number | null; count: number } {
  return { mean: mean(values), count: values.filter((value) => value !== null).length };
}

function figures(rows: HistoryRow[]): HistoryFigures {
  return {
    decisions: rows.length,
    explored: rows.filter((row) => row.explored).length,
    chosenQuality: mean(rows.map((row) => row.chosenQuality)),
    bestQuality: mean(rows.map((row) => row.bestQuality)),
    regret: mean(rows.map((row) => (row.bestQuality === null || row.chosenQuality === null ? null : row.bestQuality - row.chosenQuality))),
    chosenCost: mean(rows.map((row) => row.chosenCost)),
    cheapestCost: mean(rows.map((row) => row.cheapestCost)),
    outcome: observed(rows.map((row) => row.reward)),
    feedback: observed(rows.map((row) => row.score)),
  };
}

function copy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
