import type { Hono } from "hono";
import { hasScope } from "../../identity/principal.js";
import type { GatewayDeps } from "../deps.js";
import { unknownToTenant } from "../errors.js";
import { requireScope } from "../middleware/auth/index.js";
import { parseParams } from "../validation.js";
import { ExecutionPath } from "./v1_executions_receipt.js";

/**
 * GET /v1/decisions/:id — the bidding decision (plan, every bid, the choice) stored under an execution's or an
 * asynchronous task's id, the id `x-atomic-decision-id` names; without the execution's input and output.
 * Ownership is settled before the decision is looked for, so another tenant's id answers exactly as an unknown one.
 * A task that has not finished has no execution record yet: it is found among the tasks, for a key that may read them.
 */
export function registerDecisionsGet(app: Hono, deps: GatewayDeps): void {
  app.get("/v1/decisions/:id", requireScope("infer", "embed", "tasks"), async (c) => {
    const { id } = parseParams(ExecutionPath, c.req.param());
    const principal = c.get("principal");
    const owned = (await deps.executions.get(principal.tenant, id)) !== null
      || (hasScope(principal, "tasks") && (await deps.tasks.get(principal.tenant, id)) !== null);
    // Null where the caller named the model: nothing was bid for, and there is no decision to answer.
    const decision = owned ? await deps.routing.router.getDecision(id) : null;
    if (!decision) throw unknownToTenant("decision_not_found", `decision ${id} does not exist`, "id");
    return c.json(decision);
  });
}
