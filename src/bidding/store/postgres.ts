import type { Pool, PoolClient } from "pg";
import { GroupCommit } from "../../store/postgres/group-commit.js";
import { inTransaction } from "../../store/postgres/transaction.js";
import { UUID_PATTERN } from "../../util/uuidv7.js";
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
  SaveOutcomeOptions,
} from "./interface.js";

/** Saved versions of a learner kept besides the latest: enough to inspect recent learning, bounded in size. */
const KEPT_VERSIONS = 20;
const UNIQUE_VIOLATION = "23505";

interface OutcomeRow {
  execution_id: string;
  microtask_id: string;
  model_id: string;
  task_type: string;
  context_key: string;
  features: number[];
  prompt_tokens: number;
  completion_tokens: number;
  queue_ms: number;
  inference_ms: number;
  expected_latency_ms: number | null;
  error_code: string | null;
  schema_valid: boolean | null;
  automatic_reward: number | null;
  reward: number | null;
  learned_reward: number | null;
  learner_epoch: number;
  created_at: Date;
}

/** bidding_outcomes' columns: each with its type and the OutcomeRecord field it holds. */
const OUTCOME_FIELDS: ReadonlyArray<readonly [column: keyof OutcomeRow, type: string, field: keyof OutcomeRecord]> = [
  ["execution_id", "uuid", "executionId"],
  ["microtask_id", "text", "microtaskId"],
  ["model_id", "text", "modelId"],
  ["task_type", "text", "taskType"],
  ["context_key", "text", "contextKey"],
  ["features", "json", "features"],
  ["prompt_tokens", "int", "promptTokens"],
  ["completion_tokens", "int", "completionTokens"],
  ["queue_ms", "float8", "queueMs"],
  ["inference_ms", "float8", "inferenceMs"],
  ["expected_latency_ms", "float8", "expectedLatencyMs"],
  ["error_code", "text", "errorCode"],
  ["schema_valid", "boolean", "schemaValid"],
  ["automatic_reward", "float8", "automaticReward"],
  ["reward", "float8", "reward"],
  ["learned_reward", "float8", "learnedReward"],
  ["learner_epoch", "int", "learnerEpoch"],
  ["created_at", "timestamptz", "createdAt"],
];
const OUTCOME_COLUMNS = OUTCOME_FIELDS.map(([column]) => column).join(", ");

/**
 * A batch of decision records as one JSON array of rows, each with its choices (choicesOf); a record saved again
 * (the same execution) replaces the one before. Two records of one execution in one batch make the upsert fail;
 * GroupCommit then writes each alone, in order.
 */
const SAVE_DECISIONS = `WITH batch AS (
  SELECT * FROM json_to_recordset($1::json) AS d(execution_id uuid, policy text, record json, created_at timestamptz, choices json)
), saved AS (
  INSERT INTO bidding_decisions (execution_id, policy, record, created_at) SELECT execution_id, policy, record, created_at FROM batch
  ON CONFLICT (execution_id) DO UPDATE SET policy = EXCLUDED.policy, record = EXCLUDED.record, created_at = EXCLUDED.created_at
  RETURNING 1
)
INSERT INTO bidding_choices (execution_id, microtask_id, created_at, model_id, mode, task_type, chosen_quality,
  best_quality, chosen_cost, cheapest_cost, bid_models, bid_qualities)
SELECT b.execution_id, c.microtask_id, b.created_at, c.model_id, c.mode, c.task_type, c.chosen_quality, c.best_quality, c.chosen_cost,
       c.cheapest_cost, ARRAY(SELECT json_array_elements_text(c.bid_models)), ARRAY(SELECT json_array_elements_text(c.bid_qualities)::float8)
FROM batch b, json_to_recordset(b.choices) AS c(microtask_id text, model_id text, mode text, task_type text, chosen_quality float8,
  best_quality float8, chosen_cost float8, cheapest_cost float8, bid_models json, bid_qualities json)
ON CONFLICT (execution_id, microtask_id) DO UPDATE SET created_at = EXCLUDED.created_at, model_id = EXCLUDED.model_id,
  mode = EXCLUDED.mode, task_type = EXCLUDED.task_type, chosen_quality = EXCLUDED.chosen_quality,
  best_quality = EXCLUDED.best_quality, chosen_cost = EXCLUDED.chosen_cost, cheapest_cost = EXCLUDED.cheapest_cost,
  bid_models = EXCLUDED.bid_models, bid_qualities = EXCLUDED.bid_qualities`;

const OUTCOME_GATHER_MS = 20;

interface PendingOutcome {
  outcome: OutcomeRecord;
  feedbackScore: number | null;
}

/**
 * A batch of outcomes as one JSON array of rows (features travel as the JSON array they are), upserted, with each
 * execution's latest feedback score. Two outcomes of one microtask in one batch make the upsert fail (it may not
 * touch a row twice); GroupCommit then writes each alone, in order.
 */
const SAVE_OUTCOMES = `WITH saved AS (
  INSERT INTO bidding_outcomes (${OUTCOME_COLUMNS})
  SELECT ${OUTCOME_COLUMNS} FROM json_to_recordset($1::json) AS o(${OUTCOME_FIELDS.map(([column, type]) => `${column} ${type}`).join(", ")})
  ON CONFLICT (execution_id, microtask_id) DO UPDATE SET
    ${OUTCOME_FIELDS.slice(2).map(([column]) => `${column} = EXCLUDED.${column}`).join(", ")}
  RETURNING execution_id
)
SELECT DISTINCT s.execution_id, (SELECT score FROM bidding_feedback f WHERE f.execution_id = s.execution_id ORDER BY id DESC LIMIT 1) AS score
FROM saved s`;

/**
 * The decisions of [$1, $2) in $4 buckets of $3 seconds (bidding_choices: one row per microtask bidding assigned),
 * each with the reward in force for its outcome and its execution's latest feedback score; aggregated per bucket
 * (and model), overall (and per model), and per task class and model, chosen and bid. One statement: the range is
 * read through bidding_choices_created_at_idx, every other row by its key. Erased executions keep their choices and
 * their adaptation record (so their task class), and count. Run without JIT (see history()).
 */
const HISTORY = `
WITH c AS MATERIALIZED (
  SELECT LEAST(floor(extract(epoch FROM ch.created_at - $1::timestamptz) / $3::float8)::int, $4::int - 1) AS bucket,
         ch.model_id AS model, ch.mode,
         COALESCE(e.parameters->'adaptation'->>'taskClass', COALESCE(e.endpoint, 'unrecorded') || ':' || ch.task_type) AS task_class,
         ch.chosen_quality, ch.best_quality, ch.chosen_cost, ch.cheapest_cost, ch.bid_models, ch.bid_qualities, o.reward, f.score
  FROM bidding_choices ch
  LEFT JOIN executions e ON e.id = ch.execution_id
  LEFT JOIN bidding_outcomes o ON o.execution_id = ch.execution_id AND o.microtask_id = ch.microtask_id
  LEFT JOIN LATERAL (SELECT score FROM bidding_feedback f WHERE f.execution_id = ch.execution_id ORDER BY f.id DESC LIMIT 1) f ON true
  WHERE ch.created_at >= $1 AND ch.created_at < $2 AND ($5::text IS NULL OR e.tenant = $5::text)
),
t AS (
  SELECT GROUPING(bucket) = 0 AS by_bucket, GROUPING(model) = 0 AS by_model, GROUPING(task_class) = 0 AS by_class,
         bucket, model, task_class, count(*)::int AS decisions, count(*) FILTER (WHERE mode = 'explore')::int AS explored,
         avg(chosen_quality) AS chosen_quality, avg(best_quality) AS best_quality, avg(best_quality - chosen_quality) AS regret,
         avg(chosen_cost) AS chosen_cost, avg(cheapest_cost) AS cheapest_cost,
         avg(reward) AS outcome_mean, count(reward)::int AS outcome_count, avg(score) AS feedback_mean, count(score)::int AS feedback_count
  FROM c
  GROUP BY GROUPING SETS ((bucket), (bucket, model), (), (model), (task_class, model))
),
bl AS (
  SELECT c.task_class, b.model, count(*)::int AS bids, avg(b.quality) AS predicted_quality
  FROM c CROSS JOIN LATERAL unnest(c.bid_models, c.bid_qualities) AS b(model, quality)
  GROUP BY c.task_class, b.model
)
SELECT (SELECT COALESCE(json_agg(t), '[]') FROM t) AS time, (SELECT COALESCE(json_agg(bl), '[]') FROM bl) AS bids`;

interface FigureRow {
  decisions: number;
  chosen_quality: number | null;
  best_quality: number | null;
  regret: number | null;
  chosen_cost: number | null;
  cheapest_cost: number | null;
  explored: number;
  outcome_mean: number | null;
  outcome_count: number;
  feedback_mean: number | null;
  feedback_count: number;
}

interface TimeRow extends FigureRow {
  by_bucket: boolean;
  by_model: boolean;
  by_class: boolean;
  bucket: number | null;
  model: string | null;
  task_class: string | null;
}

interface BidRow {
  task_class: string;
  model: string;
  bids: number;
  predicted_quality: number | null;
}

/** Bidding's tables (migration 0004_bidding.sql) over the gateway's pool. */
export class PostgresBiddingStore implements BiddingStore {
  private readonly outcomes: GroupCommit<PendingOutcome>;
  private readonly decisions: GroupCommit<DecisionRecord>;

  constructor(private readonly pool: Pool) {
    // Outcomes saved after the answer (deferrable) wait up to 20 ms for company: one request at a time, a write per
    // outcome overlapped the next request's own INSERT (no-op gateway over HTTP, 3 runs of 4 interleaved rounds: p50
    // lower in 12 of 16, by 0.1-0.3 ms). Feedback waits for its execution's pending outcome (PendingOutcomes), shutdown
    // for all of them; a task's workflow, which waits on its outcomes, does not defer them.
    this.outcomes = new GroupCommit((batch) => this.writeOutcomes(batch), 500, OUTCOME_GATHER_MS);
    this.decisions = new GroupCommit((batch) => this.writeDecisions(batch));
  }

  async loadLearner(learner: string): Promise<LearnerSnapshot | null> {
    const result = await this.pool.query<{ version: string; state: LearnerState; frozen: boolean; saved_at: Date }>(
      "SELECT version, state, frozen, saved_at FROM bidding_learner_state WHERE learner = $1 ORDER BY version DESC LIMIT 1",
      [learner],
    );
    const row = result.rows[0];
    return row === undefined ? null : { version: Number(row.version), state: row.state, frozen: row.frozen, savedAt: row.saved_at };
  }

  async saveLearner(learner: string, expectedVersion: number, state: LearnerState, frozen: boolean): Promise<number> {
    const version = expectedVersion + 1;
    return inTransaction(this.pool, async (client) => {
      // A writer that loaded an older version must not append after a newer one either.
      const latest = await client.query<{ version: string }>(
        "SELECT max(version) AS version FROM bidding_learner_state WHERE learner = $1", [learner],
      );
      if (Number(latest.rows[0]?.version ?? 0) !== expectedVersion) throw new LearnerStateConflictError(learner, version);
      try {
        await client.query(
          "INSERT INTO bidding_learner_state (learner, version, state, frozen) VALUES ($1, $2, $3::json, $4)",
          [learner, version, JSON.stringify(state), frozen],
        );
      } catch (error) {
        if ((error as { code?: string }).code === UNIQUE_VIOLATION) throw new LearnerStateConflictError(learner, version);
        throw error;
      }
      await client.query("DELETE FROM bidding_learner_state WHERE learner = $1 AND version <= $2", [learner, version - 1 - KEPT_VERSIONS]);
      return version;
    });
  }

  /**
   * The record, and in the same statement what it chose in numbers (bidding_choices, read by history()). Decisions
   * made in the same moment share a statement and a commit (GroupCommit), as outcomes and executions do: each was a
   * commit of its own before its request's inference could start.
   */
  async saveDecision(record: DecisionRecord): Promise<void> {
    await this.decisions.submit(record);
  }

  private async writeDecisions(batch: DecisionRecord[]): Promise<void> {
    const rows = batch.map((record) => ({
      execution_id: record.executionId, policy: record.policy.name, record, created_at: record.createdAt, choices: choicesOf(record),
    }));
    await this.pool.query({ name: "atomic-bidding-decisions-upsert", text: SAVE_DECISIONS, values: [JSON.stringify(rows)] });
  }

  async getDecision(executionId: string): Promise<DecisionRecord | null> {
    if (!UUID_PATTERN.test(executionId)) return null;
    const result = await this.pool.query<{ record: DecisionRecord }>("SELECT record FROM bidding_decisions WHERE execution_id = $1", [executionId]);
    return result.rows[0]?.record ?? null;
  }

  async hasExecution(executionId: string): Promise<boolean> {
    if (!UUID_PATTERN.test(executionId)) return false;
    const result = await this.pool.query<{ known: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM bidding_decisions WHERE execution_id = $1)
           OR EXISTS (SELECT 1 FROM bidding_outcomes WHERE execution_id = $1) AS known`,
      [executionId],
    );
    return result.rows[0]?.known === true;
  }

  /**
   * The upsert and the latest feedback score come back together, in one statement per batch: outcomes saved in the
   * same moment share a statement and a commit (GroupCommit), as executions do. One statement and commit each was a
   * second round trip and WAL flush per answered request; at concurrency 32 on the no-op engine the gateway served
   * less than half the requests per second it serves with the outcomes gathered.
   */
  async saveOutcome(outcome: OutcomeRecord, options: SaveOutcomeOptions = {}): Promise<{ feedbackScore: number | null }> {
    const pending: PendingOutcome = { outcome, feedbackScore: null };
    await this.outcomes.submit(pending, options.deferrable ?? false);
    return { feedbackScore: pending.feedbackScore };
  }

  private async writeOutcomes(batch: PendingOutcome[]): Promise<void> {
    const rows = batch.map(({ outcome }) => Object.fromEntries(OUTCOME_FIELDS.map(([column, , field]) => [column, outcome[field]])));
    const result = await this.pool.query<{ execution_id: string; score: number | null }>({ name: "atomic-bidding-outcomes-upsert", text: SAVE_OUTCOMES, values: [JSON.stringify(rows)] });
    const scores = new Map(result.rows.map((row) => [row.execution_id, row.score]));
    for (const pending of batch) pending.feedbackScore = scores.get(pending.outcome.executionId) ?? null;
  }

  async getOutcomes(executionId: string): Promise<OutcomeRecord[]> {
    if (!UUID_PATTERN.test(executionId)) return [];
    return selectOutcomes(this.pool, executionId, false);
  }

  async updateOutcomeReward(executionId: string, update: RewardUpdate): Promise<void> {
    await updateReward(this.pool, executionId, update);
  }

  async applyFeedback(feedback: NewFeedback, plan: (outcomes: OutcomeRecord[]) => RewardUpdate[]): Promise<OutcomeRecord[] | null> {
    if (!UUID_PATTERN.test(feedback.executionId)) return null;
    return inTransaction(this.pool, async (client) => {
      const before = await selectOutcomes(client, feedback.executionId, true);
      if (before.length === 0) {
        const decided = await client.query("SELECT 1 FROM bidding_decisions WHERE execution_id = $1", [feedback.executionId]);
        if (decided.rowCount === 0) return null;
      }
      await client.query(
        "INSERT INTO bidding_feedback (execution_id, score, tenant, comment) VALUES ($1, $2, $3, $4)",
        [feedback.executionId, feedback.score, feedback.tenant, feedback.comment],
      );
      for (const update of plan(before)) await updateReward(client, feedback.executionId, update);
      return before;
    });
  }

  async listJudgedOutcomes(limit: number): Promise<OutcomeRecord[]> {
    const result = await this.pool.query<OutcomeRow>(
      `SELECT ${OUTCOME_COLUMNS} FROM bidding_outcomes o
       WHERE o.reward IS NOT NULL AND EXISTS (SELECT 1 FROM bidding_feedback f WHERE f.execution_id = o.execution_id)
       ORDER BY o.created_at LIMIT $1`,
      [limit],
    );
    return result.rows.map(toOutcome);
  }

  async history(query: HistoryQuery): Promise<BiddingHistory> {
    const bucketSeconds = (query.until.getTime() - query.since.getTime()) / 1000 / query.buckets;
    // JIT compiling this plan takes longer than running it (about 1 s of 2 s over 100,000 decisions): off for it.
    const { time, bids } = await inTransaction(this.pool, async (client) => {
      await client.query("SET LOCAL jit = off");
      const result = await client.query<{ time: TimeRow[]; bids: BidRow[] }>(HISTORY, [query.since, query.until, bucketSeconds, query.buckets, query.tenant ?? null]);
      return result.rows[0]!;
    });
    return historyOf(query.buckets, time, bids);
  }

  async listFeedback(executionId: string): Promise<FeedbackRecord[]> {
    if (!UUID_PATTERN.test(executionId)) return [];
    const result = await this.pool.query<{ execution_id: string; score: number; tenant: string | null; comment: string | null; created_at: Date }>(
      "SELECT execution_id, score, tenant, comment, created_at FROM bidding_feedback WHERE execution_id = $1 ORDER BY id",
      [executionId],
    );
    return result.rows.map((row) => ({
      executionId: row.execution_id, score: row.score, tenant: row.tenant, comment: row.comment, createdAt: row.created_at,
    }));
  }
}

/** A decision's rows of bidding_choices: one per microtask with a choice (migration 0016 derives the same in SQL). */
function choicesOf(record: DecisionRecord) {
  return record.microtasks.flatMap((microtask) => {
    if (microtask.choice === null) return [];
    const model = microtask.choice.model;
    const chosen = microtask.bids.find((bid) => bid.model === model);
    const eligible = microtask.bids.filter((bid) => bid.eligible);
    return [{
      microtask_id: microtask.id,
      model_id: model,
      mode: microtask.choice.mode,
      task_type: microtask.features?.taskType ?? "unknown",
      chosen_quality: chosen?.confidence ?? null,
      best_quality: eligible.length === 0 ? null : Math.max(...eligible.map((bid) => bid.confidence)),
      chosen_cost: chosen?.cost ?? null,
      cheapest_cost: eligible.length === 0 ? null : Math.min(...eligible.map((bid) => bid.cost)),
      bid_models: eligible.map((bid) => bid.model),
      bid_qualities: eligible.map((bid) => bid.confidence),
    }];
  });
}

/** The rows of HISTORY as a BiddingHistory: every bucket listed, the empty ones with zero decisions. */
function historyOf(buckets: number, time: TimeRow[], bids: BidRow[]): BiddingHistory {
  const figures = (row: FigureRow | undefined): HistoryFigures => ({
    decisions: row?.decisions ?? 0,
    explored: row?.explored ?? 0,
    chosenQuality: row?.chosen_quality ?? null,
    bestQuality: row?.best_quality ?? null,
    regret: row?.regret ?? null,
    chosenCost: row?.chosen_cost ?? null,
    cheapestCost: row?.cheapest_cost ?? null,
    outcome: { mean: row?.outcome_mean ?? null, count: row?.outcome_count ?? 0 },
    feedback: { mean: row?.feedback_mean ?? null, count: row?.feedback_count ?? 0 },
  });
  const modelsOf = (rows: TimeRow[]) => Object.fromEntries(rows.map((row) => [row.model!, row.decisions] as const).sort(([a], [b]) => a.localeCompare(b)));
  const perBucket = time.filter((row) => row.by_bucket);
  const chosen = new Map(time.filter((row) => row.by_class).map((row) => [JSON.stringify([row.task_class, row.model]), row]));
  const beliefs = new Map<string, HistoryBelief>();
  for (const row of bids) {
    beliefs.set(JSON.stringify([row.task_class, row.model]), { taskClass: row.task_class, model: row.model, bids: row.bids, predictedQuality: row.predicted_quality, chosen: 0, chosenQuality: null, outcome: { mean: null, count: 0 }, feedback: { mean: null, count: 0 } });
  }
  for (const [key, row] of chosen) {
    const belief = beliefs.get(key) ?? { taskClass: row.task_class!, model: row.model!, bids: 0, predictedQuality: null, chosen: 0, chosenQuality: null, outcome: { mean: null, count: 0 }, feedback: { mean: null, count: 0 } };
    const observed = figures(row);
    beliefs.set(key, { ...belief, chosen: observed.decisions, chosenQuality: observed.chosenQuality, outcome: observed.outcome, feedback: observed.feedback });
  }
  return {
    totals: { ...figures(time.find((row) => !row.by_bucket && !row.by_model && !row.by_class)), models: modelsOf(time.filter((row) => !row.by_bucket && row.by_model && !row.by_class)) },
    buckets: Array.from({ length: buckets }, (_, index) => ({
      index,
      ...figures(perBucket.find((row) => row.bucket === index && !row.by_model)),
      models: modelsOf(perBucket.filter((row) => row.bucket === index && row.by_model)),
    })),
    beliefs: [...beliefs.values()].sort((a, b) => (a.taskClass === b.taskClass ? compare(a.model, b.model) : compare(a.taskClass, b.taskClass))),
  };
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** FOR UPDATE when applying feedback: concurrent feedback for one execution then applies one after the other. */
async function selectOutcomes(client: Pool | PoolClient, executionId: string, lock: boolean): Promise<OutcomeRecord[]> {
  const result = await client.query<OutcomeRow>(
    `SELECT ${OUTCOME_COLUMNS} FROM bidding_outcomes WHERE execution_id = $1 ORDER BY microtask_id${lock ? " FOR UPDATE" : ""}`,
    [executionId],
  );
  return result.rows.map(toOutcome);
}

async function updateReward(client: Pool | PoolClient, executionId: string, update: RewardUpdate): Promise<void> {
  await client.query(
    "UPDATE bidding_outcomes SET reward = $3, learned_reward = $4, learner_epoch = $5 WHERE execution_id = $1 AND microtask_id = $2",
    [executionId, update.microtaskId, update.reward, update.learnedReward, update.learnerEpoch],
  );
}

function toOutcome(row: OutcomeRow): OutcomeRecord {
  return {
    executionId: row.execution_id,
    microtaskId: row.microtask_id,
    modelId: row.model_id,
    taskType: row.task_type,
    contextKey: row.context_key,
    features: row.features,
    promptTokens: row.prompt_tokens,
    completionTokens: row.completion_tokens,
    queueMs: row.queue_ms,
    inferenceMs: row.inference_ms,
    expectedLatencyMs: row.expected_latency_ms,
    errorCode: row.error_code,
    schemaValid: row.schema_valid,
    automaticReward: row.automatic_reward,
    reward: row.reward,
    learnedReward: row.learned_reward,
    learnerEpoch: row.learner_epoch,
    createdAt: row.created_at,
  };
}
