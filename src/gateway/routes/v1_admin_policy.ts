import type { Hono } from "hono";
import { systemEvent } from "../../audit/events.js";
import { actorOf } from "../actor.js";
import type { GatewayDeps } from "../deps.js";
import { ApiError } from "../errors.js";
import { requireScope } from "../middleware/auth/index.js";

/**
 * POST /v1/admin/policy/reload — reads the policy folder again: a set that validates replaces the active one from
 * the next request on, and is announced to the other gateways of the database, which read their own folders again
 * within policy.reloadRefreshMs (src/policy/reloads); one that does not is refused with its problems, the active set
 * stays and nothing is announced. Audited either way (the announcement and its event in one transaction).
 */
export function registerAdminPolicy(app: Hono, deps: GatewayDeps): void {
  app.post("/v1/admin/policy/reload", requireScope("operator"), async (c) => {
    const result = deps.policy.reload();
    const actor = actorOf(c);
    const request = { id: c.get("requestId"), endpoint: "POST /v1/admin/policy/reload" };
    if (!result.ok) {
      await deps.audit.record(systemEvent("policy.reloaded", {
        actor, request, outcome: { status: "refused", code: "policy_set_invalid" },
        detail: { activeHash: result.policySetHash, problems: result.error.problems },
      }));
      throw new ApiError(422, "invalid_request_error", "policy_set_invalid", `the policy set was refused; ${result.policySetHash.slice(0, 12)} stays active`, null, {}, { problems: result.error.problems });
    }
    const reloaded = (announced: Record<string, unknown>) => systemEvent("policy.reloaded", {
      actor, request, outcome: { status: "succeeded" },
      policy: { hash: result.policySetHash, decision: result.changed ? "replaced" : "unchanged" },
      detail: { previousHash: result.previousHash, warnings: [...result.warnings], ...announced },
    });
    let announcement: number | null = null;
    if (deps.policyReloads === undefined) await deps.audit.record(reloaded({}));
    else announcement = (await deps.policyReloads.announce(c.get("principal").subject, result, (written) => reloaded({ announced: written.id }))).id;
    return c.json({
      object: "policy.reload", changed: result.changed, policy_set_hash: result.policySetHash, previous_hash: result.previousHash, warnings: result.warnings,
      announced: announcement,
    });
  });
}
