import type { Exposition, Metrics, SeriesValue } from "./interface.js";

/** Records nothing: metrics turned off (metrics.enabled false), and the baseline the benchmark measures against. */
export class NoopMetrics implements Metrics {
  httpRequest(): void {}
  execution(): void {}
  policyDecision(): void {}
  piiRedacted(): void {}
  biddingDecision(): void {}
  adaptation(): void {}
  modelLifecycle(): void {}
  egressDenied(): void {}
  webhookDelivery(): void {}
  watch(): void {}
  async scrape(): Promise<Exposition> {
    return { contentType: "text/plain; version=0.0.4; charset=utf-8", body: "" };
  }
  async snapshot(): Promise<SeriesValue[] | null> {
    return null;
  }
}
