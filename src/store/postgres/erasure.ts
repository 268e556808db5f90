import type { Pool } from "pg";
import type { AuditEvent } from "../../audit/core/entry.js";
import { enqueueAuditEvent } from "../../audit/store/queue.js";
import { UUID_PATTERN } from "../../util/uuidv7.js";
import { erasedDecisionRecord, erasedParameters } from "../erased-parameters.js";
import type { ContentCounts, ContentErasureStore, ContentSelector, ErasedBatch } from "../interface.js";
import { inTransaction } from "./transaction.js";

/**
 * The WHERE clause of the executions `selector` takes that still hold content, with its parameters. Built from
 * the selectors given, so each query is planned for what it actually filters on (the partial index on tenant and
 * creation time of 0007 serves all of them).
 */
function matching(selector: ContentSelector): { where: string; values: unknown[] } {
  const values: unknown[] = [selector.tenant];
  const conditions = ["tenant = $1", "content_erased_at IS NULL"];
  if (selector.subject !== undefined) {
    values.push(selector.subject);
    conditions.push(`subject = $${values.length}`);
  }
  if (selector.executionId !== undefined) {
    // PostgreSQL's uuid type would also accept other spellings: an id in any other form names nothing.
    if (!UUID_PATTERN.test(selector.executionId)) conditions.push("false");
    else {
      values.push(selector.executionId.toLowerCase());
      // A task's microtasks are executions of their own (endpoint "tasks"), whose input names the task.
      conditions.push(`(id = $${values.length}::uuid OR (endpoint = 'tasks' AND input->>'task' = $${values.length}::uuid::text))`);
    }
  }
  if (selector.before !== undefined) {
    values.push(selector.before);
    conditions.push(`created_at < $${values.length}`);
  }
  return { where: conditions.join(" AND "), values };
}

export class PostgresContentErasureStore implements ContentErasureStore {
  constructor(private readonly pool: Pool) {}

  async count(selector: ContentSelector): Promise<ContentCounts> {
    const { where, values } = matching(selector);
    const result = await this.pool.query<{ executions: string; feedback_comments: string }>(
      `WITH matched AS (SELECT id FROM executions WHERE ${where})
       SELECT (SELECT count(*) FROM matched) AS executions,
              (SELECT count(*) FROM bidding_feedback WHERE comment IS NOT NULL AND execution_id IN (SELECT id FROM matched))
            + (SELECT count(*) FROM adaptation_rated_examples WHERE correction IS NOT NULL AND execution_id IN (SELECT id FROM matched)) AS feedback_comments`,
      values,
    );
    const row = result.rows[0]!;
    return { executions: Number(row.executions), feedbackComments: Number(row.feedback_comments) };
  }

  eraseBatch(
    selector: ContentSelector,
    options: { limit: number; skipLocked: boolean },
    describe: (batch: ErasedBatch) => AuditEvent | null,
  ): Promise<ErasedBatch & { event: AuditEvent | null }> {
    const { where, values } = matching(selector);
    return inTransaction(this.pool, async (client) => {
      // Oldest first, locked until the batch commits: a concurrent erasure (another gateway's retention pass, an
      // operator's request) either skips these rows or waits and then finds them erased.
      const locked = await client.query<{ id: string; parameters: Record<string, unknown> }>(
        `SELECT id, parameters FROM executions WHERE ${where}
          ORDER BY created_at, id LIMIT $${values.length + 1}
          FOR UPDATE${options.skipLocked ? " SKIP LOCKED" : ""}`,
        [...values, options.limit],
      );
      const executionIds = locked.rows.map((row) => row.id);
      const comments = executionIds.length === 0 ? 0 : ((await client.query(
        "UPDATE bidding_feedback SET comment = NULL WHERE comment IS NOT NULL AND execution_id = ANY($1::uuid[])",
        [executionIds],
      )).rowCount ?? 0) + ((await client.query(
        "UPDATE adaptation_rated_examples SET correction = NULL WHERE correction IS NOT NULL AND execution_id = ANY($1::uuid[])",
        [executionIds],
      )).rowCount ?? 0);
      // Decision records quote the request's n-grams in their explanations and keep its content features.
      const decisions = executionIds.length === 0 ? [] : (await client.query<{ execution_id: string; record: unknown }>(
        `SELECT execution_id, record FROM bidding_decisions WHERE execution_id = ANY($1::uuid[])
            AND (strpos(record::text, '"explanation"') > 0 OR strpos(record::text, '"content"') > 0)`,
        [executionIds],
      )).rows.flatMap((row) => {
        const erased = erasedDecisionRecord(row.record);
        return erased === null ? [] : [{ id: row.execution_id, record: JSON.stringify(erased) }];
      });
      if (decisions.length > 0) {
        await client.query(
          `UPDATE bidding_decisions d SET record = erased.record::json
             FROM unnest($1::uuid[], $2::text[]) AS erased (id, record) WHERE d.execution_id = erased.id`,
          [decisions.map((d) => d.id), decisions.map((d) => d.record)],
        );
      }
      // Outcomes keep the same content features for training: the shape stays, the content goes.
      if (executionIds.length > 0) {
        await client.query(
          `UPDATE bidding_outcomes SET features = jsonb_set(jsonb_set(features::jsonb, '{indices}', '[]'), '{values}', '[]')::json
            WHERE execution_id = ANY($1::uuid[]) AND json_typeof(features) = 'object'
              AND jsonb_array_length(COALESCE(features::jsonb -> 'indices', '[]')) > 0`,
          [executionIds],
        );
      }
      const batch = { executionIds, feedbackComments: comments };
      const event = describe(batch);
      if (executionIds.length > 0) {
        if (event === null) throw new Error("an erasure batch that erases executions must be recorded in the audit log");
        await client.query(
          `UPDATE executions e
              SET input = NULL, output = NULL, parameters = erased.parameters::json,
                  content_erased_at = clock_timestamp(), content_erasure_event = $3
             FROM unnest($1::uuid[], $2::text[]) AS erased (id, parameters)
            WHERE e.id = erased.id`,
          [executionIds, locked.rows.map((row) => JSON.stringify(erasedParameters(row.parameters))), event.id],
        );
      }
      if (event !== null) await enqueueAuditEvent(client, event);
      return { ...batch, event };
    });
  }

  async tenantsWithContent(): Promise<string[]> {
    // A skip scan over the partial index: one index probe per tenant, however many executions each one has.
    const result = await this.pool.query<{ tenant: string }>(
      `WITH RECURSIVE tenants (tenant) AS (
         (SELECT tenant FROM executions WHERE content_erased_at IS NULL ORDER BY tenant LIMIT 1)
         UNION ALL
         SELECT (SELECT e.tenant FROM executions e WHERE e.content_erased_at IS NULL AND e.tenant > t.tenant ORDER BY e.tenant LIMIT 1)
           FROM tenants t WHERE t.tenant IS NOT NULL
       )
       SELECT tenant FROM tenants WHERE tenant IS NOT NULL`,
    );
    return result.rows.map((row) => row.tenant);
  }
}
