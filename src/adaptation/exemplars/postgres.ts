import type { Pool } from "pg";
import type { RatedExample, RatedExampleQuery, RatedExamples, Rating } from "./interface.js";

/**
 * Ratings in adaptation_rated_examples (0008), content read from the execution itself: the table holds ids, the
 * class, the classification and the score, never text, so erasure has nothing to do here — an erased execution
 * drops out of every query because its content is gone (content_erased_at is set in the same transaction that
 * nulls its input and output).
 */
export class PostgresRatedExamples implements RatedExamples {
  constructor(private readonly pool: Pool) {}

  async rate(rating: Rating): Promise<void> {
    await this.pool.query(
      `INSERT INTO adaptation_rated_examples (execution_id, tenant, task_class, classification, score)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (execution_id) DO UPDATE SET score = EXCLUDED.score, rated_at = clock_timestamp()`,
      [rating.executionId, rating.tenant, rating.taskClass, rating.classification, rating.score],
    );
  }

  async find(query: RatedExampleQuery): Promise<RatedExample[]> {
    if (query.limit <= 0 || query.classifications.length === 0) return [];
    const result = await this.pool.query<{ id: string; endpoint: RatedExample["endpoint"]; input: unknown; output: unknown; score: number; classification: RatedExample["classification"] }>(
      `SELECT e.id, e.endpoint, e.input, e.output, r.score, r.classification
         FROM adaptation_rated_examples r
         JOIN executions e ON e.id = r.execution_id AND e.tenant = r.tenant
        WHERE r.tenant = $1 AND r.task_class = $2 AND r.score >= $3 AND r.classification = ANY($4::text[])
          AND e.status = 'succeeded' AND e.content_erased_at IS NULL AND e.output IS NOT NULL
        ORDER BY r.rated_at DESC
        LIMIT $5`,
      [query.tenant, query.taskClass, query.minScore, query.classifications, query.limit],
    );
    return result.rows.map((row) => ({
      executionId: row.id, endpoint: row.endpoint, input: row.input, output: row.output, score: row.score, classification: row.classification,
    }));
  }
}
