import type { Hono } from "hono";
import { z } from "zod";
import { systemEvent } from "../../audit/events.js";
import type { BiddingHistory, HistoryFigures } from "../../bidding/store/interface.js";
import { OutcomeTableError, trainFromTable } from "../../bidding/training.js";
import { NAME_PATTERN } from "../../identity/principal.js";
import { invalidRequest } from "../errors.js";
import { actorOf } from "../actor.js";
import type { GatewayDeps } from "../deps.js";
import { requireScope } from "../middleware/auth/index.js";
import { parseParams } from "../validation.js";

const ACTIONS = ["freeze", "unfreeze", "reset"] as const;

const HOUR_MS = 3_600_000;
/** The history's window: 24 hours unless asked, 31 days at most (its cost grows with the decisions in it). */
const DEFAULT_WINDOW_MS = 24 * HOUR_MS;
export const MAX_HISTORY_DAYS = 31;
export const MAX_HISTORY_BUCKETS = 168;
const DEFAULT_BUCKETS = 24;

const Instant = z.iso.datetime({ offset: true }).transform((text) => new Date(text));
export const BiddingHistoryParams = z.strictObject({
  since: Instant.optional().describe("start of the window (default: 24 hours before `until`)"),
  until: Instant.optional().describe("end of the window, exclusive (default: now); at most 31 days after `since`"),
  buckets: z.string().regex(/^[1-9]\d{0,2}$/, `a whole number from 1 to ${MAX_HISTORY_BUCKETS}`).transform(Number)
    .refine((n) => n <= MAX_HISTORY_BUCKETS, `a whole number from 1 to ${MAX_HISTORY_BUCKETS}`).optional()
    .describe(`equal spans of time the window is cut into, oldest first (default ${DEFAULT_BUCKETS})`),
  tenant: z.string().regex(NAME_PATTERN, "not a tenant name").optional().describe("only this tenant's executions (default: every tenant's)"),
});

/** Decisions per model, most first, with their share of the set's decisions. */
function modelShares(models: Record<string, number>, decisions: number) {
  return Object.entries(models)
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1))
    .map(([model, count]) => ({ model, decisions: count, share: decisions === 0 ? 0 : count / decisions }));
}

function figuresBody(figures: HistoryFigures) {
  return {
    decisions: figures.decisions,
    explored: figures.explored,
    predicted_quality: { chosen: figures.chosenQuality, best: figures.bestQuality, regret: figures.regret },
    cost: { chosen: figures.chosenCost, cheapest: figures.cheapestCost },
    outcome: figures.outcome,
    feedback: figures.feedback,
  };
}

export function historyBody(history: BiddingHistory, since: Date, until: Date, tenant: string | null) {
  const span = (until.getTime() - since.getTime()) / history.buckets.length;
  return {
    object: "bidding.history",
    since: since.toISOString(),
    until: until.toISOString(),
    tenant,
    bucket_seconds: span / 1000,
    totals: { ...figuresBody(history.totals), models: modelShares(history.totals.models, history.totals.decisions) },
    buckets: history.buckets.map((bucket) => ({
      start: new Date(since.getTime() + bucket.index * span).toISOString(),
      end: new Date(since.getTime() + (bucket.index + 1) * span).toISOString(),
      ...figuresBody(bucket),
      models: modelShares(bucket.models, bucket.decisions),
    })),
    classes: history.beliefs.map((belief) => ({
      task_class: belief.taskClass,
      model: belief.model,
      bids: belief.bids,
      predicted_quality: belief.predictedQuality,
      chosen: belief.chosen,
      chosen_predicted_quality: belief.chosenQuality,
      outcome: belief.outcome,
      feedback: belief.feedback,
    })),
  };
}

/**
 * The learner for operators: its state, and freeze (keep choosing on what was learned, learn nothing more),
 * unfreeze, reset (forget everything learned). One learner serves every tenant, so these are the site operator's
 * (scope operator); each change is audited with who made it.
 */
export function registerAdminBidding(app: Hono, deps: GatewayDeps): void {
  // What the operator sees and changes includes every outcome of requests already answered.
  app.get("/v1/admin/bidding", requireScope("operator"), async (c) => {
    await deps.routing.pending.all();
    return c.json({ object: "bidding.state", ...deps.routing.router.state() });
  });

  /**
   * What the learner chose over a recent window, in buckets of time (decisions, each model's share, the chosen
   * model's predicted quality beside the best bid's, cost beside the cheapest, outcomes and feedback), and per task
   * class and model what it predicted beside what was observed. Every tenant's, like the learner (one for the
   * site), unless `tenant` narrows it to one tenant's executions.
   */
  app.get("/v1/admin/bidding/history", requireScope("operator"), async (c) => {
    const query = parseParams(BiddingHistoryParams, c.req.query());
    const until = query.until ?? new Date();
    const since = query.since ?? new Date(until.getTime() - DEFAULT_WINDOW_MS);
    if (since.getTime() >= until.getTime()) throw invalidRequest("invalid_parameter", "since: must be before until", "since");
    if (until.getTime() - since.getTime() > MAX_HISTORY_DAYS * 24 * HOUR_MS) {
      throw invalidRequest("window_too_long", `the window from since to until may span ${MAX_HISTORY_DAYS} days at most`, "since");
    }
    await deps.routing.pending.all();
    const buckets = query.buckets ?? DEFAULT_BUCKETS;
    const history = await deps.routing.router.history({ since, until, buckets, ...(query.tenant === undefined ? {} : { tenant: query.tenant }) });
    return c.json(historyBody(history, since, until, query.tenant ?? null));
  });

  /**
   * Warm start on a running gateway (the CLI cannot open an embedded database the gateway holds): the body is an
   * outcome table (CSV or JSONL, see src/bidding/training.ts), or `?from=executions` learns the judged outcomes of
   * this gateway's own executions. Audited with the table's SHA-256 (never its content), the rows and the version.
   */
  app.post("/v1/admin/bidding/train", requireScope("operator"), async (c) => {
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
    app.post(`/v1/admin/bidding/${action}`, requireScope("operator"), async (c) => {
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
