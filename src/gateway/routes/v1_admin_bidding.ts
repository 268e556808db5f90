import type { Hono } from "hono";
import { systemEvent } from "../../audit/events.js";
import { OutcomeTableError, trainFromTable } from "../../bidding/training.js";
import { invalidRequest } from "../errors.js";
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

  /**
   * Warm start on a running gateway (the CLI cannot open an embedded database the gateway holds): the body is an
   * outcome table (CSV or JSONL, see src/bidding/training.ts), or `?from=executions` learns the judged outcomes of
   * this gateway's own executions. Audited with the table's SHA-256 (never its content), the rows and the version.
   */
  app.post("/v1/admin/bidding/train", requireScope("admin"), async (c) => {
    const router = deps.routing.router;
    await deps.routing.pending.all();
    let detail: Record<string, unknown>;
    if (c.req.query("from") === "executions") {
      const outcomes = await router.listJudgedOutcomes();
      const result = await router.trainOnOutcomes(outcomes);
      detail = { action: "train", source: "executions", rows: outcomes.length, learned: result.learned, skipped: result.skipped, version: router.state().version };
    } else {
      if (router.featurizer.needsEmbedding) {
        throw invalidRequest("training_unsupported", "this gateway reads embeddings: a table can only be trained from its own executions (?from=executions)", null);
      }
      const body = await c.req.text();
      let summary;
      try {
        summary = await trainFromTable(router, body);
      } catch (error) {
        if (error instanceof OutcomeTableError || error instanceof RangeError) throw invalidRequest("training_table_invalid", error.message, null);
        throw error;
      }
      detail = { action: "train", source: "table", sha256: summary.sha256, rows: summary.rows, learned: summary.learned, version: summary.version, models: summary.models };
    }
    await deps.audit.record(systemEvent("bidding.changed", {
      actor: actorOf(c),
      request: { id: c.get("requestId"), endpoint: "POST /v1/admin/bidding/train" },
      detail,
    }));
    return c.json({ object: "bidding.training", ...detail });
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
