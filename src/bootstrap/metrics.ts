import type { AddressInfo } from "node:net";
import type { Config } from "../config/schema.js";
import { createMetricsApp } from "../gateway/metrics-app.js";
import type { Logger } from "../observability/logger.js";
import type { Metrics } from "../observability/metrics/interface.js";
import { NoopMetrics } from "../observability/metrics/noop.js";
import { PrometheusMetrics } from "../observability/metrics/prometheus.js";
import { listenHttp } from "./http-listener.js";

/** Prometheus metrics as `metrics` configures them, or a recorder that counts nothing when they are off. */
export function metricsFromConfig(config: Config, logger: Logger): Metrics {
  if (!config.metrics.enabled) return new NoopMetrics();
  const log = logger.child({ component: "metrics" });
  return new PrometheusMetrics({
    tenants: configuredTenants(config),
    otherTenants: config.metrics.otherTenants,
    onSourceError: (source, error) => log.warn({ err: error, source }, "metrics: a source did not answer; its gauges read NaN in this scrape"),
  });
}

/** Tenants an operator named in the configuration: each keeps a label of its own, however many others call. */
export function configuredTenants(config: Config): Set<string> {
  return new Set([...Object.keys(config.limits.tenants), ...Object.keys(config.bidding.tenants), ...Object.keys(config.retention.tenants)]);
}

export interface MetricsListener {
  url: string;
  close(): Promise<void>;
}

/** The separate loopback listener for scrapes (metrics.listener); null when metrics are served on the gateway's own. */
export async function listenForMetrics(config: Config, metrics: Metrics): Promise<MetricsListener | null> {
  const listener = config.metrics.enabled ? config.metrics.listener : undefined;
  if (listener === undefined) return null;
  const app = createMetricsApp(metrics);
  const server = await listenHttp(app.fetch, { host: listener.host, port: listener.port, timeouts: config.server });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return { url: `http://${host}:${address.port}`, close: () => new Promise<void>((done) => server.close(() => done())) };
}
