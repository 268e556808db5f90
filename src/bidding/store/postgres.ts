import type { Pool, PoolClient } from "pg";
import { inTransaction } from "../../store/postgres/transaction.js";
import { UUID_PATTERN } from "../../util/uuidv7.js";
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

const OUTCOME_COLUMNS = `execution_id, microtask_id, model_id, task_type, context_key, features, prompt_tokens,
  completion_tokens, queue_ms, inference_ms, expected_latency_ms, error_code, schema_valid, automatic_reward, reward,
  learned_reward, learner_epoch, created_at`;

/** Bidding's tables (migration 0004_bidding.sql) over the gateway's pool. */
export class PostgresBiddingStore implements BiddingStore {
  constructor(private readonly pool: Pool) {}

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

  async saveDecision(record: DecisionRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO bidding_decisions (execution_id, policy, record, created_at) VALUES ($1, $2, $3::json, $4)
       ON CONFLICT (execution_id) DO UPDATE SET policy = EXCLUDED.policy, record = EXCLUDED.record, created_at = EXCLUDED.created_at`,
      [record.executionId, record.policy.name, JSON.stringify(record), record.createdAt],
    );
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

  /** One statement: the upsert and the latest feedback score come back together. */
  async saveOutcome(outcome: OutcomeRecord): Promise<{ feedbackScore: number | null }> {
    const result = await this.pool.query<{ score: number | null }>(
      `WITH saved AS (
         INSERT INTO bidding_outcomes (${OUTCOME_COLUMNS})
         VALUES ($1, $2, $3, $4, $5, $6::json, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
         ON CONFLICT (execution_id, microtask_id) DO UPDATE SET
           model_id = EXCLUDED.model_id, task_type = EXCLUDED.task_type, context_key = EXCLUDED.context_key,
           features = EXCLUDED.features, prompt_tokens = EXCLUDED.prompt_tokens,
           completion_tokens = EXCLUDED.completion_tokens, queue_ms = EXCLUDED.queue_ms,
           inference_ms = EXCLUDED.inference_ms, expected_latency_ms = EXCLUDED.expected_latency_ms,
           error_code = EXCLUDED.error_code, schema_valid = EXCLUDED.schema_valid,
           automatic_reward = EXCLUDED.automatic_reward, reward = EXCLUDED.reward,
           learned_reward = EXCLUDED.learned_reward, learner_epoch = EXCLUDED.learner_epoch,
           created_at = EXCLUDED.created_at
         RETURNING 1
       )
       SELECT (SELECT score FROM bidding_feedback WHERE execution_id = $1 ORDER BY id DESC LIMIT 1) AS score
       FROM saved`,
      [
        outcome.executionId, outcome.microtaskId, outcome.modelId, outcome.taskType, outcome.contextKey,
        JSON.stringify(outcome.features), outcome.promptTokens, outcome.completionTokens, outcome.queueMs,
        outcome.inferenceMs, outcome.expectedLatencyMs, outcome.errorCode, outcome.schemaValid,
        outcome.automaticReward, outcome.reward, outcome.learnedReward, outcome.learnerEpoch, outcome.createdAt,
      ],
    );
    return { feedbackScore: result.rows[0]?.score ?? null };
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
