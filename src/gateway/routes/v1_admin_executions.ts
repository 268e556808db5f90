import type { Hono } from "hono";
import { z } from "zod";
import { NAME_PATTERN } from "../../identity/principal.js";
import type { ExecutionPosition, ExecutionSummary } from "../../store/interface.js";
import { auditedRead } from "../audit-reads.js";
import type { GatewayDeps } from "../deps.js";
import { notFound } from "../errors.js";
import { requireScope } from "../middleware/auth/index.js";
import { parseParams } from "../validation.js";
import { executionBody } from "./v1_executions_get.js";
import { ExecutionPath } from "./v1_executions_receipt.js";

const MAX_PAGE = 200;
const DEFAULT_PAGE = 50;
const POSITION = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z) ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/** A page's end as the client hands it back: opaque to it, and checked like any other input. */
const encodeCursor = (position: ExecutionPosition) => Buffer.from(`${position.createdAt} ${position.id}`, "utf8").toString("base64url");

const Cursor = z.string().max(200).regex(/^[A-Za-z0-9_-]+$/, "not a cursor this list gave").transform((text, ctx) => {
  const match = POSITION.exec(Buffer.from(text, "base64url").toString("utf8"));
  if (match === null || Number.isNaN(Date.parse(match[1]!))) {
    ctx.issues.push({ code: "custom", message: "not a cursor this list gave", input: text });
    return z.NEVER;
  }
  return { createdAt: match[1]!, id: match[2]! };
});
const Instant = z.iso.datetime({ offset: true }).transform((text) => new Date(text));

export const ExecutionListParams = z.strictObject({
  tenant: z.string().regex(NAME_PATTERN, "not a tenant name").optional(),
  model: z.string().min(1).max(128).optional(),
  status: z.enum(["succeeded", "failed"]).optional(),
  from: Instant.optional().describe("created at or after"),
  to: Instant.optional().describe("created before"),
  cursor: Cursor.optional().describe("the `next_cursor` of the previous page"),
  limit: z.string().regex(/^(?:[1-9]|[1-9]\d|1\d\d|200)$/, `a whole number from 1 to ${MAX_PAGE}`).transform(Number).optional(),
});

function summaryBody(summary: ExecutionSummary) {
  return {
    id: summary.id,
    object: "execution.summary",
    created_at: summary.createdAt.toISOString(),
    tenant: summary.tenant,
    subject: summary.subject,
    endpoint: summary.endpoint,
    model: summary.modelId,
    status: summary.status,
    error_code: summary.errorCode,
    usage: { prompt_tokens: summary.promptTokens, completion_tokens: summary.completionTokens, total_tokens: summary.promptTokens + summary.completionTokens },
    total_ms: summary.totalMs,
  };
}

/**
 * The operators' view of executions across tenants (the dashboard's executions view), scope operator (a tenant's
 * admin reads its own tenant's with GET /v1/executions/:id):
 *   GET /v1/admin/executions      — newest first, filtered by tenant, model, status and time, in pages of `limit`
 *                                   (at most 200) that follow one another by `next_cursor`; never any content.
 *   GET /v1/admin/executions/:id  — one execution of any tenant, as GET /v1/executions/:id answers its own tenant,
 *                                   recorded as content.read.
 */
const ONE = "/v1/admin/executions/:id";

export function registerAdminExecutions(app: Hono, deps: Pick<GatewayDeps, "executions" | "routing" | "audit">): void {
  app.get("/v1/admin/executions", requireScope("operator"), async (c) => {
    const query = parseParams(ExecutionListParams, c.req.query());
    const page = await deps.executions.list({
      ...(query.tenant === undefined ? {} : { tenant: query.tenant }),
      ...(query.model === undefined ? {} : { model: query.model }),
      ...(query.status === undefined ? {} : { status: query.status }),
      ...(query.from === undefined ? {} : { from: query.from }),
      ...(query.to === undefined ? {} : { to: query.to }),
      ...(query.cursor === undefined ? {} : { after: query.cursor }),
      limit: query.limit ?? DEFAULT_PAGE,
    });
    return c.json({ object: "list", data: page.executions.map(summaryBody), next_cursor: page.next === null ? null : encodeCursor(page.next) });
  });

  // Content of any tenant's request: each look is a content.read event naming the tenant whose record it was.
  app.get(ONE, requireScope("operator"), auditedRead(deps, ONE, async (c, detail) => {
    const { id } = parseParams(ExecutionPath, c.req.param());
    detail["executionId"] = id;
    const record = await deps.executions.find(id);
    if (record === null) throw notFound("execution_not_found", `execution ${id} does not exist`, "id");
    detail["tenant"] = record.actor.tenant;
    const decision = await deps.routing.router.getDecision(record.id);
    return () => c.json({ ...executionBody(record), decision });
  }, "content.read"));
}
