import type { Hono } from "hono";
import { z } from "zod";
import { UUID_PATTERN } from "../../util/uuidv7.js";
import { auditedRead, receiptOf } from "../audit-reads.js";
import type { GatewayDeps } from "../deps.js";
import { unknownToTenant } from "../errors.js";
import { requireScope } from "../middleware/auth/index.js";
import { parseParams } from "../validation.js";
import { ReceiptQuery } from "./v1_audit.js";

export const ExecutionPath = z.strictObject({ id: z.string().regex(UUID_PATTERN, "not an execution id (a UUID)") });

const ROUTE = "/v1/executions/:id/receipt";

/**
 * GET /v1/executions/:id/receipt — the audit receipt of one of the caller's tenant's executions, with the scopes that
 * read the execution itself: an application proves what it ran without `audit:read`, which opens every tenant's
 * log. The execution's audit event shares its id, so this is GET /v1/audit/receipt/{id}'s answer, byte for byte,
 * for an id the tenant owns; another tenant's execution is as unknown as one that never was.
 *
 * Recorded as `audit.read` like every read of the log, so an auditor sees who asked for proofs of what.
 */
export function registerExecutionReceipt(app: Hono, deps: GatewayDeps): void {
  app.get(ROUTE, requireScope("infer", "embed", "tasks"), auditedRead(deps, ROUTE, async (c, detail) => {
    const { id } = parseParams(ExecutionPath, c.req.param());
    const query = parseParams(ReceiptQuery, c.req.query());
    Object.assign(detail, { eventId: id }, query.tree_size === undefined ? {} : { treeSize: query.tree_size });
    const record = await deps.executions.get(c.get("principal").tenant, id);
    if (!record) throw unknownToTenant("execution_not_found", `execution ${id} does not exist`, "id");
    const body = await receiptOf(deps.audit.reader, id, query.tree_size, "id", detail);
    return () => c.json(body);
  }));
}
