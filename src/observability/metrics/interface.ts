/**
 * What the gateway tells its metrics, in its own terms: each method is one kind of event, and the implementation
 * decides how it is counted. Callers never build metric names or label sets, so no caller can add a series per
 * request id, path or free text: every label an implementation sets comes from a bounded set (route patterns,
 * catalog model ids, stable error codes, configured or capped tenants).
 *
 * Implementations: prometheus.ts (prom-client, served on GET /metrics) and noop.ts (metrics off, benchmarks).
 */

/** One answered HTTP request, as the metrics middleware sees it on its way out. */
export interface HttpRequestSample {
  method: string;
  /** The pattern of the route that served it (`/v1/executions/:id`, or `(unmatched)`), never the path. */
  route: string;
  status: number;
  /** The caller's tenant; undefined when no credential was accepted. */
  tenant: string | undefined;
  /** Until the response headers: a streamed answer goes on after this. */
  seconds: number;
  /** The stable code of an error answer (`rate_limited`, `policy_denied`); undefined for a success. */
  errorCode: string | undefined;
}

/** One recorded execution: a generation or embedding on one model. */
export interface ExecutionSample {
  /** `chat.completions`, `responses`, `completions`, `embeddings` or `tasks` (a synchronous task, or one microtask of an asynchronous one). */
  endpoint: string;
  model: string;
  /** "succeeded", or the stable code it failed with (`model_overloaded`, `structured_output_invalid`). */
  outcome: string;
  promptTokens: number;
  completionTokens: number;
  /** Waiting for a free sequence of the model's host, summed over attempts. */
  queueSeconds: number;
  /** From the first token in to the last token out, summed over attempts. */
  inferenceSeconds: number;
}

/** The state of one model's host, read at scrape time. */
export interface ModelGaugeSample {
  id: string;
  state: string;
  queued: number;
  inFlight: number;
}

/** The audit log's backlog and newest signed tree, read at scrape time. */
export interface AuditGaugeSample {
  /** Events acknowledged but not yet sequenced. */
  queued: number;
  /** Age of the oldest of them; 0 when none waits. */
  oldestQueuedSeconds: number;
  /** Leaves in the newest signed checkpoint, and its age; null before the first. */
  checkpointSize: number | null;
  checkpointAgeSeconds: number | null;
}

/** State that is read when scraped rather than counted as it happens. Each is optional: a part that is off reports nothing. */
export interface MetricSources {
  models?: () => Iterable<ModelGaugeSample>;
  audit?: () => Promise<AuditGaugeSample>;
  /** Whether this process's audit sequencer holds the leadership. */
  auditLeader?: () => boolean;
  /** Asynchronous tasks by Temporal execution status (`Running`, `Completed`, …). */
  tasks?: () => Promise<ReadonlyMap<string, number>>;
}

/** One series as read now: a histogram's buckets (`…_bucket`, with `le`), sum and count are series of their own. */
export interface SeriesValue {
  name: string;
  labels: Readonly<Record<string, string>>;
  /** NaN where a scrape-time source could not say. */
  value: number;
}

export interface Exposition {
  contentType: string;
  body: string;
}

export interface Metrics {
  httpRequest(sample: HttpRequestSample): void;
  execution(sample: ExecutionSample): void;
  /** The policy let a request reach a model as sent or redacted, or refused it (with the ids of the policies that did). */
  policyDecision(outcome: "send" | "redact" | "deny", reasons?: readonly string[]): void;
  /** Distinct values of one PII kind replaced by placeholders in one execution's record. */
  piiRedacted(kind: string, values: number): void;
  /** Bidding assigned a microtask to `model`, exploring or exploiting. */
  biddingDecision(model: string, mode: "explore" | "exploit"): void;
  /** How adaptation shaped one generation: its plan mode and the strategies it applied. */
  adaptation(mode: string, strategies: readonly string[]): void;
  /**
   * A model host loaded its model, refused it, died while serving (and is being restarted), or saw its loaded file
   * change on disk.
   */
  modelLifecycle(model: string, event: "loaded" | "refused" | "crashed" | "file-changed"): void;
  /** The egress guard refused an outbound attempt (`via`: the kind of call, e.g. tcp, dns, udp). */
  egressDenied(via: string): void;
  /** One webhook delivery attempt's outcome. */
  webhookDelivery(outcome: "succeeded" | "failed" | "refused"): void;
  /** Registers state read at each scrape; called once the parts that hold it have started. */
  watch(sources: MetricSources): void;
  /** The exposition of every series, with its content type. */
  scrape(): Promise<Exposition>;
  /** Atomic's own series (not the process's), read as a scrape reads them; null where metrics are off. */
  snapshot(): Promise<SeriesValue[] | null>;
}
