import type { Hono } from "hono";
import { systemEvent } from "../../audit/events.js";
import { actorOf } from "../actor.js";
import type { GatewayDeps } from "../deps.js";
import { requireScope } from "../middleware/auth/index.js";

const ACTIONS = ["freeze", "unfreeze", "reset"] as const;

/**
 * The learner for operators: its state, and freeze (keep choosing on what was learned, learn nothing more),
 * unfreeze, reset (forget everything learned). Admin only; each change is audited with who made it.
 */
export function registerAdminBidding(app: Hono, deps: GatewayDeps): void {
  // What the operator sees and changes includes every outcome of requests already answered.
  app.get("/v1/admin/bidding", requireScope("admin"), async (c) => {
    await deps.routing.pending.all();
    return c.json({ object: "bidding.state", ...deps.routing.router.state() });
  });

  for (const action of ACTIONS) {
    app.post(`/v1/admin/bidding/${action}`, requireScope("admin"), async (c) => {
      const router = deps.routing.router;
      await deps.routing.pending.all();
      const before = router.state();
      await router[action]();
      const after = router.state();
      await deps.audit.record(systemEvent("bidding.changed", {
        actor: actorOf(c),
        request: { id: c.get("requestId"), endpoint: `POST /v1/admin/bidding/${action}` },
        detail: { action, before: { frozen: before.frozen, epoch: before.epoch }, after: { frozen: after.frozen, epoch: after.epoch } },
      }));
      return c.json({ object: "bidding.state", ...after });
    });
  }
}
