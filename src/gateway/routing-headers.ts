import type { Context } from "hono";
import type { RouteDecision } from "../bidding/index.js";

/**
 * A routed response names its decision record (stored under the execution id, shown by GET
 * /v1/executions/:id) and whether the learner explored or exploited; set before any body is sent.
 */
export function setRoutingHeaders(c: Context, decision: RouteDecision | null): void {
  if (decision === null) return;
  c.header("x-atomic-decision-id", decision.executionId);
  const mode = decision.assignments[0]?.mode;
  if (mode !== undefined) c.header("x-atomic-routing", mode);
}
