import type { Hono } from "hono";
import { z } from "zod";
import type { GatewayDeps } from "../deps.js";
import { erasureSelector, ErasureSelectorError, type ErasureSelectorInput } from "../../retention/selector.js";
import type { ContentSelector } from "../../store/interface.js";
import { actorOf } from "../actor.js";
import { invalidRequest } from "../errors.js";
import { requireScope } from "../middleware/auth/index.js";
import { readBody } from "../validation.js";

export const ErasureRequest = z.strictObject({
  /** The caller identity the executions name: `apikey:<key id>` or a JWT's `sub`. */
  subject: z.string().max(128).optional(),
  execution_id: z.string().max(64).optional(),
  /** Created before: `YYYY-MM-DD` (midnight UTC) or a date-time with its offset. */
  before: z.string().max(64).optional(),
  /** Count what would be erased, change nothing, record nothing. */
  dry_run: z.boolean().default(false),
});

const ENDPOINT = "POST /v1/admin/erasure";

/** The checked selector, or a 400 naming the parameter at fault. */
function selectorOf(input: ErasureSelectorInput): ContentSelector {
  try {
    return erasureSelector(input);
  } catch (error) {
    if (error instanceof ErasureSelectorError) throw invalidRequest(error.code, error.message, error.param);
    throw error;
  }
}

/**
 * POST /v1/admin/erasure — erases the content of the caller's tenant's executions that the selectors name (see
 * src/retention): input, output, caller text in parameters and feedback comments become null; ids, digests,
 * counts, timings and the audit log stay, so receipts still verify. `admin` is every scope, not every tenant: an
 * admin erases its own tenant's records (the console's `atomic erase --tenant` reaches any). Each batch is audited
 * as `content.erased`; a dry run only counts.
 */
export function registerAdminErasure(app: Hono, deps: Pick<GatewayDeps, "erasure">): void {
  const eraser = deps.erasure;
  app.post("/v1/admin/erasure", requireScope("admin"), async (c) => {
    const body = await readBody(c, ErasureRequest);
    const tenant = c.get("principal").tenant;
    const selector = selectorOf({ tenant, subject: body.subject, executionId: body.execution_id, before: body.before });
    const selectors = {
      ...(selector.subject === undefined ? {} : { subject: selector.subject }),
      ...(selector.executionId === undefined ? {} : { execution_id: selector.executionId }),
      ...(selector.before === undefined ? {} : { before: selector.before.toISOString() }),
    };
    if (body.dry_run) {
      const counts = await eraser.count(selector);
      return c.json({ object: "erasure", dry_run: true, tenant, selectors, executions: counts.executions, feedback_comments: counts.feedbackComments });
    }
    const result = await eraser.erase({
      selector,
      trigger: "request",
      actor: actorOf(c),
      request: { id: c.get("requestId"), endpoint: ENDPOINT },
    });
    return c.json({
      object: "erasure",
      dry_run: false,
      tenant,
      selectors,
      executions: result.executions,
      feedback_comments: result.feedbackComments,
      erasure_id: result.erasureId,
      audit_event_ids: result.auditEventIds,
    });
  });
}
