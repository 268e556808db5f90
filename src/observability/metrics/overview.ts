import type { SeriesValue } from "./interface.js";

/**
 * The dashboard's overview (GET /v1/admin/overview), computed from the gateway's own Prometheus series rather than
 * parsed from their text: rates, shares and percentiles over the last minute or so, as `rate()` and
 * `histogram_quantile()` would give them over a range of this one gateway's series. The answer's shape (snake_case,
 * as every answer) is built here, where the series are understood.
 */

/** Routes of the operators and of the service itself: what they cost is not the traffic an operator watches. */
const NOT_TRAFFIC = /^(\/v1\/admin(\/|$)|\/ui(\/|$)|\/(metrics|healthz|readyz|openapi\.json|docs)$)/;
/** Error codes listed, most frequent first. */
const TOP_ERRORS = 10;

export interface OverviewOptions {
  /** Rates are over at least this long once the gateway has run that long (default one minute). */
  windowMs?: number;
  /** A sample is kept at most this often, which bounds what the window holds (default 5 s). */
  sampleEveryMs?: number;
  now?: () => number;
}

interface Sample {
  at: number;
  /** Counters and histogram parts by series key: what rates are differences of. */
  values: Map<string, number>;
}

type Quantiles = { p50: number | null; p90: number | null; p99: number | null };

export interface Overview {
  window_seconds: number;
  traffic: { requests: number; requests_per_second: number; errors: number; error_share: number | null; latency_seconds: Quantiles };
  errors: Array<{ status: number; code: string; count: number }>;
  models: Array<{
    id: string;
    state: string | null;
    queued: number | null;
    in_flight: number | null;
    executions: number;
    failures: number;
    prompt_tokens: number;
    completion_tokens: number;
    tokens_per_second: number;
    generation_tokens_per_second_p50: number | null;
    queue_wait_seconds_p90: number | null;
    restarts: number;
  }>;
  bidding: Array<{ model: string; explore: number; exploit: number }>;
  policy: { send: number; redact: number; deny: number; denials: Array<{ reason: string; count: number }> };
  audit: { queued: number | null; lag_seconds: number | null; checkpoint_size: number | null; checkpoint_age_seconds: number | null; leader: boolean | null };
}

const keyOf = (series: SeriesValue) => `${series.name}${JSON.stringify(Object.entries(series.labels).sort(([a], [b]) => a.localeCompare(b)))}`;
const isCumulative = (name: string) => /_(total|bucket|sum|count)$/.test(name);
const finite = (value: number | undefined) => (value === undefined || !Number.isFinite(value) ? null : value);

/**
 * Keeps a few past samples of the counters (one per `sampleEveryMs` at most) and answers each read with the
 * differences from the newest sample at least a window old, or, until the gateway has run that long, from its start,
 * when every counter was zero. Several operators reading at once share the samples.
 */
export class OverviewWindow {
  private readonly windowMs: number;
  private readonly sampleEveryMs: number;
  private readonly now: () => number;
  private readonly samples: Sample[];

  constructor(options: OverviewOptions = {}) {
    this.windowMs = options.windowMs ?? 60_000;
    this.sampleEveryMs = options.sampleEveryMs ?? 5_000;
    this.now = options.now ?? Date.now;
    this.samples = [{ at: this.now(), values: new Map() }];
  }

  observe(series: readonly SeriesValue[]): Overview {
    const now = this.now();
    while (this.samples.length > 1 && this.samples[1]!.at <= now - this.windowMs) this.samples.shift();
    const baseline = this.samples[0]!;
    // Under a second, a rate says more about when the page was opened than about the gateway.
    const seconds = Math.max(1, (now - baseline.at) / 1000);
    const overview = summarize(new Reading(series, baseline.values), seconds);
    if (now - this.samples.at(-1)!.at >= this.sampleEveryMs) {
      this.samples.push({ at: now, values: new Map(series.filter((s) => isCumulative(s.name)).map((s) => [keyOf(s), s.value])) });
    }
    return overview;
  }
}

/** The series as read now, and for counters, what they grew by since the baseline. */
class Reading {
  constructor(private readonly series: readonly SeriesValue[], private readonly baseline: ReadonlyMap<string, number>) {}

  of(name: string): SeriesValue[] {
    return this.series.filter((s) => s.name === name);
  }

  /** What a counter series grew by in the window (a series born since counts from zero). */
  increase(series: SeriesValue): number {
    return Math.max(0, series.value - (this.baseline.get(keyOf(series)) ?? 0));
  }

  /** The increase of every series of `name` that `where` keeps, summed per value of `by` (one sum when absent). */
  increaseBy(name: string, by: string | null, where: (labels: Readonly<Record<string, string>>) => boolean = () => true): Map<string, number> {
    const sums = new Map<string, number>();
    for (const s of this.of(name)) {
      if (!where(s.labels)) continue;
      const group = by === null ? "" : (s.labels[by] ?? "");
      sums.set(group, (sums.get(group) ?? 0) + this.increase(s));
    }
    return sums;
  }

  /** Quantiles of a histogram's increase in the window, over the series `where` keeps. */
  quantiles(histogram: string, where: (labels: Readonly<Record<string, string>>) => boolean): Quantiles {
    const byBound = this.increaseBy(`${histogram}_bucket`, "le", (labels) => labels["le"] !== undefined && where(labels));
    const buckets = [...byBound].map(([le, count]): [number, number] => [le === "+Inf" ? Infinity : Number(le), count]).sort((a, b) => a[0] - b[0]);
    return { p50: histogramQuantile(0.5, buckets), p90: histogramQuantile(0.9, buckets), p99: histogramQuantile(0.99, buckets) };
  }

  gauge(name: string): number | null {
    return finite(this.of(name)[0]?.value);
  }

  gaugeByModel(name: string): Map<string, number> {
    return new Map(this.of(name).map((s) => [s.labels["model"] ?? "", s.value]));
  }
}

function summarize(reading: Reading, seconds: number): Overview {
  const traffic = (labels: Readonly<Record<string, string>>) => !NOT_TRAFFIC.test(labels["route"] ?? "");
  const requests = sum(reading.increaseBy("atomic_http_requests_total", null, traffic));
  const errors = sum(reading.increaseBy("atomic_http_requests_total", null, (labels) => traffic(labels) && Number(labels["status"]) >= 400));

  const errorCodes: Overview["errors"] = [];
  for (const s of reading.of("atomic_http_errors_total")) {
    const count = reading.increase(s);
    if (count > 0) errorCodes.push({ status: Number(s.labels["status"]), code: s.labels["code"] ?? "", count });
  }
  errorCodes.sort((a, b) => b.count - a.count || a.code.localeCompare(b.code));

  const states = new Map(reading.of("atomic_model_state").filter((s) => s.value === 1).map((s) => [s.labels["model"] ?? "", s.labels["state"] ?? ""]));
  const queued = reading.gaugeByModel("atomic_model_queue_depth");
  const inFlight = reading.gaugeByModel("atomic_model_in_flight");
  const executions = reading.increaseBy("atomic_executions_total", "model");
  const failures = reading.increaseBy("atomic_executions_total", "model", (labels) => labels["outcome"] !== "succeeded");
  const promptTokens = reading.increaseBy("atomic_model_tokens_total", "model", (labels) => labels["type"] === "prompt");
  const completionTokens = reading.increaseBy("atomic_model_tokens_total", "model", (labels) => labels["type"] === "completion");
  const restarts = new Map(reading.of("atomic_model_host_restarts_total").map((s) => [s.labels["model"] ?? "", s.value]));
  const ids = [...new Set([...states.keys(), ...executions.keys()])].sort();

  const bidding = new Map<string, { model: string; explore: number; exploit: number }>();
  for (const s of reading.of("atomic_bidding_decisions_total")) {
    const model = s.labels["model"] ?? "";
    const entry = bidding.get(model) ?? { model, explore: 0, exploit: 0 };
    if (s.labels["mode"] === "explore") entry.explore += reading.increase(s);
    else entry.exploit += reading.increase(s);
    bidding.set(model, entry);
  }

  const decisions = reading.increaseBy("atomic_policy_decisions_total", "outcome");
  const denials = [...reading.increaseBy("atomic_policy_denials_total", "reason")].filter(([, count]) => count > 0).map(([reason, count]) => ({ reason, count }));
  const leader = reading.gauge("atomic_audit_sequencer_leader");

  return {
    window_seconds: round(seconds, 1),
    traffic: {
      requests,
      requests_per_second: round(requests / seconds, 3),
      errors,
      error_share: requests === 0 ? null : round(errors / requests, 4),
      latency_seconds: reading.quantiles("atomic_http_request_duration_seconds", traffic),
    },
    errors: errorCodes.slice(0, TOP_ERRORS),
    models: ids.map((id) => ({
      id,
      state: states.get(id) ?? null,
      queued: finite(queued.get(id)),
      in_flight: finite(inFlight.get(id)),
      executions: executions.get(id) ?? 0,
      failures: failures.get(id) ?? 0,
      prompt_tokens: promptTokens.get(id) ?? 0,
      completion_tokens: completionTokens.get(id) ?? 0,
      tokens_per_second: round((completionTokens.get(id) ?? 0) / seconds, 2),
      generation_tokens_per_second_p50: reading.quantiles("atomic_model_generation_tokens_per_second", (labels) => labels["model"] === id).p50,
      queue_wait_seconds_p90: reading.quantiles("atomic_model_queue_wait_seconds", (labels) => labels["model"] === id).p90,
      restarts: restarts.get(id) ?? 0,
    })),
    bidding: [...bidding.values()].filter((entry) => entry.explore + entry.exploit > 0).sort((a, b) => a.model.localeCompare(b.model)),
    policy: { send: decisions.get("send") ?? 0, redact: decisions.get("redact") ?? 0, deny: decisions.get("deny") ?? 0, denials },
    audit: {
      queued: reading.gauge("atomic_audit_queue_events"),
      lag_seconds: reading.gauge("atomic_audit_queue_lag_seconds"),
      checkpoint_size: reading.gauge("atomic_audit_checkpoint_size"),
      checkpoint_age_seconds: reading.gauge("atomic_audit_checkpoint_age_seconds"),
      leader: leader === null ? null : leader === 1,
    },
  };
}

/**
 * The q-quantile of a histogram's observations from its cumulative buckets ([upper bound, count], ascending, the
 * last +Inf), interpolated linearly within the bucket it falls in, as Prometheus' histogram_quantile does; null
 * without observations, and the largest finite bound when it falls in the +Inf bucket.
 */
export function histogramQuantile(q: number, buckets: ReadonlyArray<readonly [number, number]>): number | null {
  const total = buckets.at(-1)?.[1] ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const [bound, count] of buckets) {
    if (count >= rank) {
      if (bound === Infinity) return lower;
      if (count === below) return bound;
      return round(lower + (bound - lower) * ((rank - below) / (count - below)), 6);
    }
    lower = bound;
    below = count;
  }
  return lower;
}

function sum(values: Map<string, number>): number {
  let total = 0;
  for (const value of values.values()) total += value;
  return total;
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
