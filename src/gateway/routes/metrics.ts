import type { Handler, Hono } from "hono";
import type { Metrics } from "../../observability/metrics/interface.js";
import { authenticate, requireScope, type AuthenticateOptions } from "../middleware/auth/index.js";

/** Answers a scrape: every series in the Prometheus text format. */
export function serveMetrics(metrics: Metrics): Handler {
  return async function metricsHandler(c) {
    const { contentType, body } = await metrics.scrape();
    return c.body(body, 200, { "content-type": contentType, "cache-control": "no-store" });
  };
}

/**
 * GET /metrics on the gateway's own listener, for a credential holding `metrics:read` (or `admin`): the series
 * name models, routes and tenants, which is more than an anonymous caller should learn. Refusals are recorded
 * like those under /v1.
 */
export function registerMetrics(app: Hono, deps: { metrics: Metrics; access: AuthenticateOptions }): void {
  app.get("/metrics", authenticate(deps.access), requireScope("metrics:read"), serveMetrics(deps.metrics));
}
