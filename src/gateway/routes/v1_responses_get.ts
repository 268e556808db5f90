import type { Hono } from "hono";
import { z } from "zod";
import { auditedRead } from "../audit-reads.js";
import type { GatewayDeps } from "../deps.js";
import { responseExecutionId } from "../openai/responses-answer.js";
import { storedResponse } from "../openai/responses-stored.js";
import { requireScope } from "../middleware/auth/index.js";
import { parseParams } from "../validation.js";

export const ResponsePath = z.strictObject({ id: z.string().min(1).max(256) });

const ROUTE = "/v1/responses/:id";

/**
 * GET /v1/responses/:id — a stored response of the caller's tenant, as POST /v1/responses answered it (OpenAI's
 * `responses.retrieve`), read back from its execution record. It holds the request's input and answer, so each
 * read is a `content.read` event (a refused one too).
 */
export function registerResponsesGet(app: Hono, deps: GatewayDeps): void {
  app.get(ROUTE, requireScope("infer"), auditedRead(deps, ROUTE, async (c, detail) => {
    const { id } = parseParams(ResponsePath, c.req.param());
    const executionId = responseExecutionId(id);
    // Only an id that names an execution is kept in the event: what else the caller typed is not.
    if (executionId !== null) detail["executionId"] = executionId;
    const record = executionId === null ? null : await deps.executions.get(c.get("principal").tenant, executionId);
    const response = storedResponse(id, record);
    return () => c.json(response);
  }, "content.read"));
}
