import type { MiddlewareHandler } from "hono";
import type { Metrics } from "../../../observability/metrics/interface.js";
import { ApiError } from "../../errors.js";
import { routePattern } from "../../request-path.js";
import { whenAnswered } from "../../stream-end.js";

/**
 * Counts every answered request by route pattern, status and tenant, and times it to its end (a streamed answer to
 * its last event; its status is the one it started with, as HTTP sent it). It runs
 * first, so refusals by the middleware below (401, 403, 429, 413) are counted like any answer. Policy denials also
 * count by the policies that denied: the decision is made deep in the pipeline, and its error is what comes out here.
 */
export function httpMetrics(metrics: Metrics): MiddlewareHandler {
  return async function httpMetricsHandler(c, next) {
    const started = performance.now();
    await next();
    const errorCode = c.get("errorCode");
    const answered = { method: c.req.method, route: routePattern(c), status: c.res.status, tenant: c.get("principal")?.tenant, errorCode };
    whenAnswered(c, () => metrics.httpRequest({ ...answered, seconds: (performance.now() - started) / 1000 }));
    if (errorCode === "policy_denied" && c.error instanceof ApiError) metrics.policyDecision("deny", denyingPolicies(c.error.details));
  };
}

function denyingPolicies(details: unknown): string[] {
  const reasons = (details as { reasons?: unknown } | undefined)?.reasons;
  return Array.isArray(reasons) ? reasons.filter((reason): reason is string => typeof reason === "string") : [];
}
