import type { Pool } from "pg";
import type { AuditEvent } from "../../audit/core/entry.js";
import { queuedEventText } from "../../audit/store/queue.js";
import type { ExecutionEndpoint, ExecutionRecord, ExecutionStatus, ExecutionStore } from "../interface.js";

/** PostgreSQL's uuid type also accepts braces or no hyphens; ids the gateway hands out are always in this form. */
const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface ExecutionRow {
  id: string;
  request_id: string;
  endpoint: ExecutionEndpoint;
  model_id: string;
  model_digest: string;
  status: ExecutionStatus;
  error_code: string | null;
  parameters: Record<string, unknown>;
  input: unknown;
  output: unknown;
  schema_name: string | null;
  schema_version: number | null;
  prompt_tokens: number;
  completion_tokens: number;
  queue_ms: number;
  inference_ms: number;
  total_ms: number;
  created_at: Date;
  completed_at: Date;
}

export class PostgresExecutionStore implements ExecutionStore {
  constructor(private readonly pool: Pool) {}

  /** One statement (a data-modifying CTE): atomic without a transaction's extra round trips on the request path. */
  async insert(record: ExecutionRecord, audit: AuditEvent): Promise<void> {
    await this.pool.query(
      `WITH execution AS (
         INSERT INTO executions (
           id, request_id, endpoint, model_id, model_digest, status, error_code, parameters, input, output,
           schema_name, schema_version, prompt_tokens, completion_tokens, queue_ms, inference_ms, total_ms,
           created_at, completed_at
         ) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::json, $9::json, $10::json, $11, $12, $13, $14, $15, $16, $17, $18, $19)
       )
       INSERT INTO audit_queue (event_id, event) VALUES ($20, $21)`,
      [
        record.id,
        record.requestId,
        record.endpoint,
        record.modelId,
        record.modelDigest,
        record.status,
        record.errorCode,
        // Serialised here: pg would turn a JavaScript array into a PostgreSQL array literal, not JSON.
        JSON.stringify(record.parameters),
        JSON.stringify(record.input),
        record.output === null || record.output === undefined ? null : JSON.stringify(record.output),
        record.schema?.name ?? null,
        record.schema?.version ?? null,
        record.promptTokens,
        record.completionTokens,
        record.timings.queueMs,
        record.timings.inferenceMs,
        record.timings.totalMs,
        record.createdAt,
        record.completedAt,
        audit.id,
        queuedEventText(audit),
      ],
    );
  }

  async get(id: string): Promise<ExecutionRecord | null> {
    if (!CANONICAL_UUID.test(id)) return null;
    const result = await this.pool.query<ExecutionRow>("SELECT * FROM executions WHERE id = $1", [id]);
    const row = result.rows[0];
    return row === undefined ? null : toRecord(row);
  }
}

function toRecord(row: ExecutionRow): ExecutionRecord {
  return {
    id: row.id,
    requestId: row.request_id,
    endpoint: row.endpoint,
    modelId: row.model_id,
    modelDigest: row.model_digest,
    status: row.status,
    errorCode: row.error_code,
    parameters: row.parameters,
    input: row.input,
    output: row.output,
    schema: row.schema_name === null || row.schema_version === null ? null : { name: row.schema_name, version: row.schema_version },
    promptTokens: row.prompt_tokens,
    completionTokens: row.completion_tokens,
    timings: { queueMs: row.queue_ms, inferenceMs: row.inference_ms, totalMs: row.total_ms },
    createdAt: row.created_at,
    completedAt: row.completed_at,
  };
}
