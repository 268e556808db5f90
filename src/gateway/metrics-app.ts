import { Hono } from "hono";
import type { Metrics } from "../observability/metrics/interface.js";
import { errorHandler, notFoundHandler } from "./middleware/errors/index.js";
import { serveMetrics } from "./routes/metrics.js";

/**
 * The app of the separate metrics listener (metrics.listener): GET /metrics and nothing else, without
 * credentials, since it listens on loopback only, where the site's Prometheus agent runs beside the gateway.
 */
export function createMetricsApp(metrics: Metrics): Hono {
  const app = new Hono();
  app.onError(errorHandler());
  app.notFound(notFoundHandler());
  app.get("/metrics", serveMetrics(metrics));
  return app;
}
