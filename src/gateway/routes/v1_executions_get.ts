import type { Hono } from "hono";
import type { ExecutionRecord } from "../../store/interface.js";
import { auditedRead } from "../audit-reads.js";
import type { GatewayDeps } from "../deps.js";
import { requireScope } from "../middleware/auth/index.js";
import { notFound } from "../errors.js";
import { parseParams } from "../validation.js";
import { ExecutionPath } from "./v1_executions_receipt.js";

export function executionBody(record: ExecutionRecord) {
  return {
    id: record.id,
    object: "execution",
    request_id: record.requestId,
    actor: { subject: record.actor.subject, tenant: record.actor.tenant },
    endpoint: record.endpoint,
    model: record.modelId,
    model_sha256: record.modelDigest,
    status: record.status,
    error_code: record.errorCode,
    parameters: record.parameters,
    input: record.input,
    output: record.output,
    schema: record.schema,
    usage: { prompt_tokens: record.promptTokens, completion_tokens: record.completionTokens, total_tokens: record.promptTokens + record.completionTokens },
    timings_ms: { queue: record.timings.queueMs, inference: record.timings.inferenceMs, total: record.timings.totalMs },
    created_at: record.createdAt.toISOString(),
    completed_at: record.completedAt.toISOString(),
    // Why input and output are null: erased on request or past retention, and which audit event says so.
    content_erased: record.contentErased === undefined ? null : { at: record.contentErased.at.toISOString(), audit_event_id: record.contentErased.auditEventId },
    // The OpenTelemetry trace it ran in, to find its spans in the site's collector; null where tracing was off.
    trace_id: record.traceId ?? null,
  };
}

const ROUTE = "/v1/executions/:id";

/**
 * GET /v1/executions/:id — what was stored for one request; only the tenant that made it can read it. It answers
 * with the request's input and output, so each read is a `content.read` event (a refused one too).
 */
export function registerExecutionsGet(app: Hono, deps: GatewayDeps): void {
  app.get(ROUTE, requireScope("infer", "embed", "tasks"), auditedRead(deps, ROUTE, async (c, detail) => {
    const { id } = parseParams(ExecutionPath, c.req.param());
    detail["executionId"] = id;
    const record = await deps.executions.get(c.get("principal").tenant, id);
    if (!record) throw notFound("execution_not_found", `execution ${id} does not exist`, "id");
    // Null when the caller named the model: nothing was bid for.
    const decision = await deps.routing.router.getDecision(record.id);
    return () => c.json({ ...executionBody(record), decision });
  }, "content.read"));
}
