import type { Pool } from "pg";
import type { AuditEvent } from "../../audit/core/entry.js";
import { queuedEventText } from "../../audit/store/queue.js";
import { GroupCommit } from "./group-commit.js";
import type { ExecutionEndpoint, ExecutionListQuery, ExecutionPage, ExecutionRecord, ExecutionStatus, ExecutionStore, ExecutionSummary } from "../interface.js";

/** PostgreSQL's uuid type also accepts braces or no hyphens; ids the gateway hands out are always in this form. */
const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface ExecutionRow {
  id: string;
  request_id: string;
  tenant: string;
  subject: string;
  token_id_hash: string;
  source_address: string | null;
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
  content_erased_at: Date | null;
  content_erasure_event: string | null;
  trace_id: string | null;
}

interface PendingExecution {
  record: ExecutionRecord;
  auditText: string;
  auditId: string;
}

/** Column order of the batched insert; each is sent as one array parameter and unnested server-side. */
const EXECUTION_COLUMNS: Array<[string, string, (p: PendingExecution) => unknown]> = [
  ["id", "uuid", (p) => p.record.id],
  ["request_id", "text", (p) => p.record.requestId],
  ["tenant", "text", (p) => p.record.actor.tenant],
  ["subject", "text", (p) => p.record.actor.subject],
  ["token_id_hash", "text", (p) => p.record.actor.tokenIdHash],
  ["source_address", "text", (p) => p.record.actor.sourceAddress ?? null],
  ["endpoint", "text", (p) => p.record.endpoint],
  ["model_id", "text", (p) => p.record.modelId],
  ["model_digest", "text", (p) => p.record.modelDigest],
  ["status", "text", (p) => p.record.status],
  ["error_code", "text", (p) => p.record.errorCode],
  // Serialised here: pg would turn a JavaScript array into a PostgreSQL array literal, not JSON.
  ["parameters", "json", (p) => JSON.stringify(p.record.parameters)],
  ["input", "json", (p) => JSON.stringify(p.record.input)],
  ["output", "json", (p) => (p.record.output === null || p.record.output === undefined ? null : JSON.stringify(p.record.output))],
  ["schema_name", "text", (p) => p.record.schema?.name ?? null],
  ["schema_version", "int", (p) => p.record.schema?.version ?? null],
  ["prompt_tokens", "int", (p) => p.record.promptTokens],
  ["completion_tokens", "int", (p) => p.record.completionTokens],
  ["queue_ms", "float8", (p) => p.record.timings.queueMs],
  ["inference_ms", "float8", (p) => p.record.timings.inferenceMs],
  ["total_ms", "float8", (p) => p.record.timings.totalMs],
  ["created_at", "timestamptz", (p) => p.record.createdAt],
  ["completed_at", "timestamptz", (p) => p.record.completedAt],
  ["trace_id", "text", (p) => p.record.traceId ?? null],
];

const n = EXECUTION_COLUMNS.length;
const COLUMN_NAMES = EXECUTION_COLUMNS.map(([name]) => name).join(", ");
const INSERT_BATCH = `WITH execution AS (
  INSERT INTO executions (${COLUMN_NAMES})
  SELECT * FROM unnest(${EXECUTION_COLUMNS.map(([, type], i) => `$${i + 1}::${type}[]`).join(", ")})
)
INSERT INTO audit_queue (event_id, event) SELECT * FROM unnest($${n + 1}::uuid[], $${n + 2}::text[])`;
// A batch of one (every request of a gateway that is not busy) as plain values: PostgreSQL parsing 26 one-element
// array literals and unnesting them took ~0.2 ms more per statement than these scalars, on the answer's path.
const INSERT_ONE = `WITH execution AS (
  INSERT INTO executions (${COLUMN_NAMES})
  VALUES (${EXECUTION_COLUMNS.map(([, type], i) => `$${i + 1}::${type}`).join(", ")})
)
INSERT INTO audit_queue (event_id, event) VALUES ($${n + 1}::uuid, $${n + 2}::text)`;

export class PostgresExecutionStore implements ExecutionStore {
  // Requests finishing together share one statement and one commit (see GroupCommit).
  private readonly committer: GroupCommit<PendingExecution>;

  constructor(private readonly pool: Pool) {
    this.committer = new GroupCommit((batch) => this.writeBatch(batch));
  }

  /** Atomic per record: the execution and its audit event are one statement's rows, committed together. */
  async insert(record: ExecutionRecord, audit: AuditEvent): Promise<void> {
    // Checked before queuing, so a bad event is refused to its own request alone.
    const auditText = queuedEventText(audit);
    await this.committer.submit({ record, auditText, auditId: audit.id });
  }

  private async writeBatch(batch: PendingExecution[]): Promise<void> {
    // Named, so that each connection parses and plans them once: every answered request runs one.
    if (batch.length === 1) {
      const only = batch[0]!;
      await this.pool.query({ name: "atomic-executions-insert-one", text: INSERT_ONE, values: [...EXECUTION_COLUMNS.map(([, , value]) => value(only)), only.auditId, only.auditText] });
      return;
    }
    const columns = EXECUTION_COLUMNS.map(([, , value]) => batch.map(value));
    await this.pool.query({ name: "atomic-executions-insert", text: INSERT_BATCH, values: [...columns, batch.map((p) => p.auditId), batch.map((p) => p.auditText)] });
  }

  async tokensSince(tenant: string, since: Date): Promise<number> {
    const result = await this.pool.query<{ tokens: string }>(
      "SELECT COALESCE(sum(prompt_tokens + completion_tokens), 0) AS tokens FROM executions WHERE tenant = $1 AND created_at >= $2",
      [tenant, since],
    );
    return Number(result.rows[0]?.tokens ?? 0);
  }

  async get(tenant: string, id: string): Promise<ExecutionRecord | null> {
    if (!CANONICAL_UUID.test(id)) return null;
    const result = await this.pool.query<ExecutionRow>("SELECT * FROM executions WHERE id = $1 AND tenant = $2", [id, tenant]);
    const row = result.rows[0];
    return row === undefined ? null : toRecord(row);
  }

  async find(id: string): Promise<ExecutionRecord | null> {
    if (!CANONICAL_UUID.test(id)) return null;
    const row = (await this.pool.query<ExecutionRow>("SELECT * FROM executions WHERE id = $1", [id])).rows[0];
    return row === undefined ? null : toRecord(row);
  }

  /**
   * Newest first by (created_at, id), which the indexes of migration 0014 (and 0006 for a tenant) hold in that
   * order: a page reads its `limit` rows plus one, at any depth, rather than counting past what came before.
   */
  async list(query: ExecutionListQuery): Promise<ExecutionPage> {
    const values: unknown[] = [];
    const where: string[] = [];
    const bind = (value: unknown) => `$${values.push(value)}`;
    if (query.tenant !== undefined) where.push(`tenant = ${bind(query.tenant)}`);
    if (query.model !== undefined) where.push(`model_id = ${bind(query.model)}`);
    if (query.status !== undefined) where.push(`status = ${bind(query.status)}`);
    if (query.from !== undefined) where.push(`created_at >= ${bind(query.from)}`);
    if (query.to !== undefined) where.push(`created_at < ${bind(query.to)}`);
    if (query.after !== undefined) where.push(`(created_at, id) < (${bind(query.after.createdAt)}::timestamptz, ${bind(query.after.id)}::uuid)`);
    const result = await this.pool.query<SummaryRow>(
      `SELECT id, tenant, subject, endpoint, model_id, status, error_code, prompt_tokens, completion_tokens, total_ms, created_at,
              to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS position
         FROM executions ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
        ORDER BY created_at DESC, id DESC LIMIT ${bind(query.limit + 1)}`,
      values,
    );
    const rows = result.rows.slice(0, query.limit);
    const last = rows.at(-1);
    return {
      executions: rows.map(toSummary),
      next: result.rows.length > query.limit && last !== undefined ? { createdAt: last.position, id: last.id } : null,
    };
  }
}

interface SummaryRow extends Pick<ExecutionRow, "id" | "tenant" | "subject" | "endpoint" | "model_id" | "status" | "error_code" | "prompt_tokens" | "completion_tokens" | "total_ms" | "created_at"> {
  position: string;
}

function toSummary(row: SummaryRow): ExecutionSummary {
  return {
    id: row.id,
    tenant: row.tenant,
    subject: row.subject,
    endpoint: row.endpoint,
    modelId: row.model_id,
    status: row.status,
    errorCode: row.error_code,
    promptTokens: row.prompt_tokens,
    completionTokens: row.completion_tokens,
    totalMs: row.total_ms,
    createdAt: row.created_at,
  };
}

function toRecord(row: ExecutionRow): ExecutionRecord {
  return {
    id: row.id,
    requestId: row.request_id,
    actor: {
      subject: row.subject,
      tenant: row.tenant,
      tokenIdHash: row.token_id_hash,
      ...(row.source_address === null ? {} : { sourceAddress: row.source_address }),
    },
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
    ...(row.content_erased_at === null ? {} : { contentErased: { at: row.content_erased_at, auditEventId: row.content_erasure_event! } }),
    ...(row.trace_id === null ? {} : { traceId: row.trace_id }),
  };
}
