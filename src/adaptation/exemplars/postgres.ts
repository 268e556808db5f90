import type { Pool } from "pg";
import type { RatedExample, RatedExampleQuery, RatedExamples, Rating } from "./interface.js";

/**
 * Ratings in adaptation_rated_examples (0008, 0009), content read from the execution itself: the table holds ids,
 * the class, the classification, the score and a rater's correction (redacted), which erasure nulls in the same
 * transaction that nulls the execution's input and output; an erased execution drops out of every query. A task's
 * registered schema comes from the tenant's registry (the prompt showed it; a fit rebuilds that prompt).
 */
export class PostgresRatedExamples implements RatedExamples {
  constructor(private readonly pool: Pool) {}

  async rate(rating: Rating): Promise<void> {
    await this.pool.query(
      `INSERT INTO adaptation_rated_examples (execution_id, tenant, task_class, classification, score, correction)
       VALUES ($1, $2, $3, $4, $5, $6::json)
       ON CONFLICT (execution_id) DO UPDATE SET score = EXCLUDED.score, correction = EXCLUDED.correction, rated_at = clock_timestamp()`,
      [rating.executionId, rating.tenant, rating.taskClass, rating.classification, rating.score, rating.correction === undefined ? null : JSON.stringify(rating.correction)],
    );
  }

  async find(query: RatedExampleQuery): Promise<RatedExample[]> {
    if (query.limit <= 0 || query.classifications.length === 0) return [];
    const result = await this.pool.query<{ id: string; endpoint: RatedExample["endpoint"]; input: unknown; output: unknown; answer: unknown; label_field: string | null; grammar: string | null; registered_schema: Record<string, unknown> | null; corrected: boolean; score: number; classification: RatedExample["classification"] }>(
      `SELECT e.id, e.endpoint, e.input, COALESCE(r.correction, e.output) AS output, e.output AS answer,
              e.parameters->'adaptation'->>'labelField' AS label_field, e.parameters->>'grammar' AS grammar, s.schema AS registered_schema,
              r.correction IS NOT NULL AS corrected, r.score, r.classification
         FROM adaptation_rated_examples r
         JOIN executions e ON e.id = r.execution_id AND e.tenant = r.tenant
         LEFT JOIN schemas s ON e.endpoint = 'tasks' AND s.tenant = e.tenant AND s.name = e.schema_name AND s.version = e.schema_version
        WHERE r.tenant = $1 AND r.task_class = $2 AND r.classification = ANY($4::text[]) AND e.content_erased_at IS NULL
          AND (r.correction IS NOT NULL OR (r.score >= $3 AND e.status = 'succeeded' AND e.output IS NOT NULL))
        ORDER BY r.rated_at DESC
        LIMIT $5`,
      [query.tenant, query.taskClass, query.minScore, query.classifications, query.limit],
    );
    return result.rows.map((row) => ({
      executionId: row.id, endpoint: row.endpoint, input: row.input, output: row.output, answer: row.answer, corrected: row.corrected, score: row.score, classification: row.classification,
      grammar: row.grammar,
      ...(row.registered_schema === null ? {} : { registeredSchema: row.registered_schema }),
      ...(row.label_field === null ? {} : { labelField: row.label_field }),
    }));
  }
}
