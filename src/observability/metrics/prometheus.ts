import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { AuditGaugeSample, Exposition, ExecutionSample, HttpRequestSample, Metrics, MetricSources, SeriesValue } from "./interface.js";
import { CachedExposition } from "./exposition.js";
import { BoundedLabel } from "./labels.js";

export interface PrometheusMetricsOptions {
  /** Tenants that always get a series of their own (those the configuration names). */
  tenants?: Iterable<string>;
  /** Further tenants labelled as themselves, first seen first; the rest share "(other)". */
  otherTenants?: number;
  /** Told when a scrape-time source failed or was slow: its gauges read NaN in that scrape rather than a stale value. */
  onSourceError?: (source: string, error: unknown) => void;
  /** Node.js process metrics (CPU, memory, event loop lag, GC), under their usual unprefixed names. Default true. */
  processMetrics?: boolean;
}

/** Methods a route is served for; anything else (the HTTP parser allows a few dozen) is counted as OTHER. */
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);
/** Policy ids come from the operator's policy set; a cap still guards against a set that names thousands. */
const MAX_POLICY_REASONS = 50;
/** Asking Temporal to count workflows is a visibility query: once per this long at most, whatever the scrape rate. */
const TASK_COUNT_TTL_MS = 15_000;
/** A database or Temporal that does not answer must not hold the scrape up for long. */
const SOURCE_TIMEOUT_MS = 2_000;

const HTTP_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const INFERENCE_SECONDS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const QUEUE_SECONDS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const TOKENS_PER_SECOND = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000];

/**
 * The gateway's metrics in a prom-client registry of its own (never the library's global one, so that two
 * gateways in one process, as in the tests, keep apart), exposed in the Prometheus text format (exposition.ts).
 */
export class PrometheusMetrics implements Metrics {
  readonly registry = new Registry();
  private readonly exposition = new CachedExposition(this.registry);
  private readonly tenants: BoundedLabel;
  private readonly policyReasons = new BoundedLabel([], MAX_POLICY_REASONS);
  private readonly onSourceError: (source: string, error: unknown) => void;
  private sources: MetricSources = {};

  private readonly httpRequests: Counter<"method" | "route" | "status" | "tenant">;
  private readonly httpDuration: Histogram<"method" | "route">;
  private readonly httpErrors: Counter<"status" | "code">;
  private readonly executions: Counter<"endpoint" | "model" | "outcome">;
  private readonly tokens: Counter<"model" | "type">;
  private readonly tokensPerSecond: Histogram<"model">;
  private readonly queueWait: Histogram<"model">;
  private readonly inferenceDuration: Histogram<"model">;
  private readonly restarts: Counter<"model">;
  private readonly fileChanges: Counter<"model">;
  private readonly bidding: Counter<"model" | "mode">;
  private readonly adaptations: Counter<"mode">;
  private readonly strategies: Counter<"strategy">;
  private readonly policy: Counter<"outcome">;
  private readonly denials: Counter<"reason">;
  private readonly pii: Counter<"kind">;
  private readonly egress: Counter<"via">;
  private readonly webhooks: Counter<"outcome">;

  constructor(options: PrometheusMetricsOptions = {}) {
    this.tenants = new BoundedLabel(options.tenants ?? [], options.otherTenants ?? 20);
    this.onSourceError = options.onSourceError ?? (() => undefined);
    const registers = [this.registry];
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });

    this.httpRequests = new Counter({ name: "atomic_http_requests_total", help: "HTTP requests answered, by route pattern, status and tenant", labelNames: ["method", "route", "status", "tenant"], registers });
    this.httpDuration = new Histogram({ name: "atomic_http_request_duration_seconds", help: "Time from request to response headers (a stream goes on after them)", labelNames: ["method", "route"], buckets: HTTP_SECONDS, registers });
    this.httpErrors = new Counter({ name: "atomic_http_errors_total", help: "Error answers by status and stable code; 401, 403 and 429 are refusals", labelNames: ["status", "code"], registers });
    this.executions = new Counter({ name: "atomic_executions_total", help: "Recorded generations and embeddings, by endpoint, model and outcome (succeeded or the error code)", labelNames: ["endpoint", "model", "outcome"], registers });
    this.tokens = new Counter({ name: "atomic_model_tokens_total", help: "Tokens read (prompt) and written (completion) per model", labelNames: ["model", "type"], registers });
    this.tokensPerSecond = new Histogram({ name: "atomic_model_generation_tokens_per_second", help: "Completion tokens per second of inference, per succeeded generation", labelNames: ["model"], buckets: TOKENS_PER_SECOND, registers });
    this.queueWait = new Histogram({ name: "atomic_model_queue_wait_seconds", help: "Time a succeeded execution waited for a free sequence of its model's host", labelNames: ["model"], buckets: QUEUE_SECONDS, registers });
    this.inferenceDuration = new Histogram({ name: "atomic_model_inference_duration_seconds", help: "Inference time of a succeeded execution, first token in to last token out", labelNames: ["model"], buckets: INFERENCE_SECONDS, registers });
    this.restarts = new Counter({ name: "atomic_model_host_restarts_total", help: "Model hosts that died while serving and were restarted", labelNames: ["model"], registers });
    this.fileChanges = new Counter({ name: "atomic_model_file_changes_total", help: "Loaded model files seen changed on disk after their load: to other bytes than the pin's, or under a mapping", labelNames: ["model"], registers });
    this.bidding = new Counter({ name: "atomic_bidding_decisions_total", help: "Microtasks assigned by bidding, by winning model and explore or exploit", labelNames: ["model", "mode"], registers });
    this.adaptations = new Counter({ name: "atomic_adaptation_generations_total", help: "Generations by adaptation plan mode", labelNames: ["mode"], registers });
    this.strategies = new Counter({ name: "atomic_adaptation_strategy_uses_total", help: "Adaptation strategies applied to generations", labelNames: ["strategy"], registers });
    this.policy = new Counter({ name: "atomic_policy_decisions_total", help: "Policy decisions on requests: sent as they are, redacted, or denied", labelNames: ["outcome"], registers });
    this.denials = new Counter({ name: "atomic_policy_denials_total", help: "Policy denials by the id of a policy that denied", labelNames: ["reason"], registers });
    this.pii = new Counter({ name: "atomic_pii_redactions_total", help: "Distinct PII values replaced by placeholders in execution records, by kind", labelNames: ["kind"], registers });
    this.egress = new Counter({ name: "atomic_egress_denied_total", help: "Outbound attempts refused by the egress guard", labelNames: ["via"], registers });
    this.webhooks = new Counter({ name: "atomic_webhook_deliveries_total", help: "Webhook delivery attempts by outcome", labelNames: ["outcome"], registers });
    this.registerSourceGauges();
  }

  httpRequest(sample: HttpRequestSample): void {
    const method = METHODS.has(sample.method) ? sample.method : "OTHER";
    const status = String(sample.status);
    this.httpRequests.inc({ method, route: sample.route, status, tenant: this.tenants.of(sample.tenant) });
    this.httpDuration.observe({ method, route: sample.route }, sample.seconds);
    if (sample.errorCode !== undefined) this.httpErrors.inc({ status, code: sample.errorCode });
  }

  execution(sample: ExecutionSample): void {
    const { model } = sample;
    this.executions.inc({ endpoint: sample.endpoint, model, outcome: sample.outcome });
    this.tokens.inc({ model, type: "prompt" }, sample.promptTokens);
    this.tokens.inc({ model, type: "completion" }, sample.completionTokens);
    // A failure's timings say nothing reliable (a request refused by a full queue waited, but records no wait): the
    // failures are counted by outcome above.
    if (sample.outcome !== "succeeded") return;
    this.queueWait.observe({ model }, sample.queueSeconds);
    this.inferenceDuration.observe({ model }, sample.inferenceSeconds);
    if (sample.completionTokens > 0 && sample.inferenceSeconds > 0) this.tokensPerSecond.observe({ model }, sample.completionTokens / sample.inferenceSeconds);
  }

  policyDecision(outcome: "send" | "redact" | "deny", reasons: readonly string[] = []): void {
    this.policy.inc({ outcome });
    for (const reason of reasons) this.denials.inc({ reason: this.policyReasons.of(reason) });
  }

  piiRedacted(kind: string, values: number): void {
    this.pii.inc({ kind }, values);
  }

  biddingDecision(model: string, mode: "explore" | "exploit"): void {
    this.bidding.inc({ model, mode });
  }

  adaptation(mode: string, strategies: readonly string[]): void {
    this.adaptations.inc({ mode });
    for (const strategy of strategies) this.strategies.inc({ strategy });
  }

  modelLifecycle(model: string, event: "loaded" | "refused" | "crashed" | "file-changed"): void {
    if (event === "crashed") this.restarts.inc({ model });
    if (event === "file-changed") this.fileChanges.inc({ model });
  }

  egressDenied(via: string): void {
    this.egress.inc({ via });
  }

  webhookDelivery(outcome: "succeeded" | "failed" | "refused"): void {
    this.webhooks.inc({ outcome });
  }

  watch(sources: MetricSources): void {
    this.sources = { ...this.sources, ...sources };
  }

  async scrape(): Promise<Exposition> {
    return { contentType: this.registry.contentType, body: await this.exposition.text() };
  }

  async snapshot(): Promise<SeriesValue[]> {
    const names = this.registry.getMetricsAsArray().map((metric) => metric.name).filter((name) => name.startsWith("atomic_"));
    const families = await Promise.all(names.map((name) => this.registry.getSingleMetric(name)!.get()));
    return families.flatMap((family) =>
      family.values.map((series: { value: number; labels: Record<string, string | number | undefined>; metricName?: string }) => ({
        name: series.metricName ?? family.name,
        labels: Object.fromEntries(Object.entries(series.labels).map(([key, value]) => [key, String(value)])),
        value: series.value,
      })),
    );
  }

  /**
   * Gauges read from their sources when scraped. prom-client asks every gauge at once, so the audit gauges, fed by
   * one query, share a single read of it per scrape.
   */
  private registerSourceGauges(): void {
    const models = () => this.sources.models?.() ?? [];
    this.gauge("atomic_model_state", "1 for the state each model's host is in (loading, ready, failed, stopped, draining, unloaded)", ["model", "state"], (set) => {
      for (const model of models()) set({ model: model.id, state: model.state }, 1);
    });
    this.gauge("atomic_model_queue_depth", "Requests waiting for a free sequence of the model's host", ["model"], (set) => {
      for (const model of models()) set({ model: model.id }, model.queued);
    });
    this.gauge("atomic_model_in_flight", "Requests the model's host is serving", ["model"], (set) => {
      for (const model of models()) set({ model: model.id }, model.inFlight);
    });

    const audit = this.shared("audit", 0, async () => (this.sources.audit === undefined ? null : this.sources.audit()));
    const auditGauge = (name: string, help: string, value: (sample: AuditGaugeSample) => number | null) =>
      this.gauge(name, help, [], async (set) => {
        const sample = await audit();
        const v = sample === null ? null : value(sample);
        if (v !== null) set({}, v);
      });
    auditGauge("atomic_audit_queue_events", "Audit events acknowledged and not yet sequenced into the log", (s) => s.queued);
    auditGauge("atomic_audit_queue_lag_seconds", "Age of the oldest audit event waiting to be sequenced (0: none waits)", (s) => s.oldestQueuedSeconds);
    auditGauge("atomic_audit_checkpoint_size", "Leaves in the newest signed audit checkpoint", (s) => s.checkpointSize);
    auditGauge("atomic_audit_checkpoint_age_seconds", "Age of the newest signed audit checkpoint", (s) => s.checkpointAgeSeconds);
    this.gauge("atomic_audit_sequencer_leader", "1 while this process's audit sequencer holds the leadership", [], (set) => {
      const leader = this.sources.auditLeader;
      if (leader !== undefined) set({}, leader() ? 1 : 0);
    });

    const tasks = this.shared("tasks", TASK_COUNT_TTL_MS, async () => (this.sources.tasks === undefined ? null : this.sources.tasks()));
    this.gauge("atomic_tasks", "Asynchronous tasks by Temporal workflow status, counted at most every 15 s", ["state"], async (set) => {
      for (const [state, count] of (await tasks()) ?? []) set({ state }, count);
    });
  }

  /**
   * A gauge whose series are exactly those `collect` sets at each scrape: a model gone leaves none behind. A gauge
   * without labels always has its one series (prom-client shows 0 when unset): it reads NaN when its source could
   * not say, never a made-up 0.
   */
  private gauge<L extends string>(name: string, help: string, labelNames: L[], collect: (set: (labels: Partial<Record<L, string>>, value: number) => void) => void | Promise<void>): void {
    const gauge: Gauge<L> = new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      async collect() {
        const values: Array<[Partial<Record<L, string>>, number]> = [];
        await collect((labels, value) => values.push([labels, value]));
        gauge.reset();
        for (const [labels, value] of values) gauge.set(labels, value);
        if (labelNames.length === 0 && values.length === 0) gauge.set(Number.NaN);
      },
    });
  }

  /**
   * One read of a source shared by every caller while it runs and for `ttlMs` after; a failure or a read slower
   * than SOURCE_TIMEOUT_MS is reported and counts as no value.
   */
  private shared<T>(name: string, ttlMs: number, read: () => Promise<T | null>): () => Promise<T | null> {
    let pending: Promise<T | null> | null = null;
    let settledAt: number | null = null;
    return () => {
      if (pending !== null && (settledAt === null || performance.now() - settledAt < ttlMs)) return pending;
      settledAt = null;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${SOURCE_TIMEOUT_MS} ms`)), SOURCE_TIMEOUT_MS);
      });
      pending = Promise.race([read(), timeout])
        .catch((error: unknown) => {
          this.onSourceError(name, error);
          return null;
        })
        .finally(() => {
          clearTimeout(timer);
          settledAt = performance.now();
        });
      return pending;
    };
  }
}
