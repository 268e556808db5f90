import type { Hono } from "hono";
import { OverviewWindow } from "../../observability/metrics/overview.js";
import type { GatewayDeps } from "../deps.js";
import { requireScope } from "../middleware/auth/index.js";
import { parseParams } from "../validation.js";
import { NoQuery } from "./v1_audit.js";

/**
 * GET /v1/admin/overview — what the dashboard's first view shows: request rate, latency percentiles, errors,
 * tokens/s and queue depth per model, policy decisions and the audit backlog, over the last minute of this gateway's
 * own metrics (each gateway of a site answers for itself). Metrics off (metrics.enabled false): it says so.
 */
export function registerAdminOverview(app: Hono, deps: Pick<GatewayDeps, "metrics">): void {
  // Created with the app, before any request is counted: the window's first baseline is all zeros.
  const window = new OverviewWindow();
  app.get("/v1/admin/overview", requireScope("operator"), async (c) => {
    parseParams(NoQuery, c.req.query());
    const series = (await deps.metrics?.snapshot()) ?? null;
    if (series === null) return c.json({ object: "admin.overview", metrics_enabled: false });
    return c.json({ object: "admin.overview", metrics_enabled: true, ...window.observe(series) }, 200, { "cache-control": "no-store" });
  });
}
