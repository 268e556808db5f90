import { CriteriaSchema } from "../bidding/criteria.js";
import { PROBE_TARGET } from "../egress/self-test.js";
import { NAME_PATTERN } from "../identity/principal.js";
import { HOST_ID_PATTERN } from "../orchestration/names.js";
import { availableParallelism } from "node:os";
import { z } from "zod";

/**
 * Every setting Atomic reads, with its default. Each key can come from the config file (JSON, nested as here)
 * or from an environment variable named ATOMIC_<SECTION>_<KEY> in upper snake case (ATOMIC_SERVER_PORT,
 * ATOMIC_INFERENCE_MAX_QUEUE); DATABASE_URL is also read as database.url.
 */
/** As identities name tenants: a key here must be a name some credential can carry. */
export const TenantName = z.string().regex(NAME_PATTERN, "a tenant name");

/** What a browser sends in Origin: the serialised origin of an http(s) URL, exactly. */
function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === "https:" || url.protocol === "http:") && url.origin === value;
  } catch {
    return false;
  }
}

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;
/** Addresses that only this host can reach. */
const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost)$/;
/** An origin as URL.origin writes it: no path, no trailing slash. */
const ORIGIN = /^https?:\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/;

const TENANT_LIMIT_FIELDS = {
  /** Requests per minute per tenant (per gateway process), with `burst` allowed at once; 429 beyond. */
  requestsPerMinute: z.number().positive().max(1_000_000).nullable(),
  burst: z.number().int().min(1).max(100_000),
  /** Prompt + completion tokens per UTC day; generation and embedding requests get 429 once it is spent. */
  tokensPerDay: z.number().int().positive().nullable(),
};

/** A tenant's own limits, each field replacing the one below it: the file's entry, or one set over HTTP. */
export const TenantLimitsSchema = z.strictObject(TENANT_LIMIT_FIELDS).partial();
export type TenantLimitsInput = z.infer<typeof TenantLimitsSchema>;

/** Days a tenant's execution content is kept after it was created; null: kept until erased on demand. */
const RetentionDays = z.number().int().min(1).max(36_500).nullable();
/** A tenant's retention: days its execution content is kept (null: until erased on demand). */
export const TenantRetentionSchema = z.strictObject({ days: RetentionDays });
export type TenantRetention = z.infer<typeof TenantRetentionSchema>;

/** Sampling parameters, with the ranges the request schemas accept (src/gateway/openai/requests.ts). */
const SAMPLING_FIELDS = {
  temperature: z.number().min(0).max(2),
  topP: z.number().gt(0).max(1),
  topK: z.number().int().min(0).max(1000),
  minP: z.number().min(0).max(1),
  repeatPenalty: z.number().gt(0).max(2),
  presencePenalty: z.number().min(-2).max(2),
  frequencyPenalty: z.number().min(-2).max(2),
};
const Bound = z.strictObject({ min: z.number().optional(), max: z.number().optional() })
  .refine((b) => b.min === undefined || b.max === undefined || b.min <= b.max, { message: "min is above max" });

export const ConfigSchema = z.strictObject({
  server: z.strictObject({
    /** Loopback by default: exposing the gateway is a deliberate act. */
    host: z.string().min(1).default("127.0.0.1"),
    port: z.number().int().min(0).max(65535).default(8080),
    bodyLimitBytes: z.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
    /**
     * How long a request may take to arrive: its headers, and the whole request with its body (408, connection
     * closed). Node's own defaults (60 s and 300 s) let a client that trickles or stops sending hold a connection for
     * minutes; answers, streams included, are not bounded by these. Checked every second.
     */
    headersTimeoutMs: z.number().int().min(1000).max(300_000).default(10_000),
    requestTimeoutMs: z.number().int().min(1000).max(600_000).default(30_000),
    /** Serve HTTPS with this PEM certificate (chain) and private key; absent → plain HTTP. Read and checked at start. */
    tls: z.strictObject({
      certFile: z.string().min(1),
      keyFile: z.string().min(1),
    }).optional(),
    /**
     * Browser origins allowed to call the gateway (CORS). None → no CORS header is ever sent, so no web page on
     * another origin can read an answer. Exact origins only ("https://app.example:8443"), never "*".
     */
    cors: z.strictObject({
      origins: z.preprocess(
        // From an environment variable: a comma-separated list.
        (value) => (typeof value === "string" ? value.split(",").map((item) => item.trim()).filter(Boolean) : value),
        z.array(z.string().refine(isOrigin, "an origin: scheme://host[:port], no path, no trailing slash, no wildcard")),
      ).default([]),
    }).prefault({}),
  }).prefault({}),
  /** Where the embedded database, generated models and keys live. */
  dataDir: z.string().min(1).default(".atomic"),
  database: z.strictObject({
    /** A PostgreSQL connection string; absent → an embedded PostgreSQL under dataDir. */
    url: z.string().min(1).optional(),
    /**
     * Wait for each execution record to reach disk before answering (PostgreSQL synchronous_commit). false trades
     * the last few hundred milliseconds of records on a machine crash for ~0.5 ms less per request.
     */
    synchronousCommit: z.boolean().default(true),
  }).prefault({}),
  models: z.strictObject({
    manifest: z.string().min(1).default("models/manifest.json"),
    /**
     * The manifest of the real model family that scripts/install-models.ts installs (SmolLM2, Gemma 3, MiniLM),
     * served after the site's own models; absent or empty: not installed. "" turns it off.
     */
    family: z.string().default(".tools/models/manifest.json"),
    /** Serve the generated random-weight test model when neither manifest pins a model. */
    testModelWhenEmpty: z.boolean().default(true),
    /** Used when a request names no model; absent → the first model in the manifest. */
    defaultModel: z.string().min(1).optional(),
    /**
     * How long a model taken out of service (unpinned, replaced, unloaded) may finish the requests it had admitted;
     * those still running then fail with 503 model_drain_timeout.
     */
    drainTimeoutMs: z.number().int().min(0).max(3_600_000).default(60_000),
    /**
     * How often each gateway and `atomic worker` reads the operators' unloads and loads (POST
     * /v1/admin/models/:id/unload, /load) made on any gateway of the database, and applies what changed: a model
     * unloaded elsewhere drains and unloads here, one loaded elsewhere is hosted again.
     */
    serviceStateRefreshMs: z.number().int().min(100).max(60_000).default(5000),
    /**
     * Let llama.cpp map model files rather than read the weights into each model host's memory. Mapped, a write into
     * a pinned file changes the weights being served until the host notices (its requests are then refused and the
     * file verified and loaded again); read (false, the default), it cannot change them. See docs/architecture.md.
     */
    mmap: z.boolean().default(false),
  }).prefault({}),
  inference: z.strictObject({
    /**
     * llama.cpp threads per model host. Half the logical CPUs: ggml's threads spin while they wait, and on the
     * 2-vCPU machines measured here 2 threads ran 2-30x slower than 1 (see docs/performance.md).
     */
    threads: z.number().int().min(1).max(512).default(Math.max(1, Math.floor(availableParallelism() / 2))),
    gpu: z.enum(["auto", "cpu", "cuda", "vulkan"]).default("auto"),
    contextSize: z.number().int().min(256).max(1_048_576).default(4096),
    maxQueue: z.number().int().min(0).max(100_000).default(64),
    queueTimeoutMs: z.number().int().min(1).max(600_000).default(30_000),
    /** Upper bound on max_tokens a request may ask for. */
    maxTokensLimit: z.number().int().min(1).max(1_000_000).default(4096),
    /** Attempts at a structured output before answering 422 (fresh seed each time). */
    structuredAttempts: z.number().int().min(1).max(5).default(2),
    /**
     * Contexts with a LoRA adapter a model host keeps besides its base context (least recently used freed first).
     * Each costs what the base context does — its KV cache: ≈180 MB for SmolLM2 at 2 × 4096 tokens — and ≈0.1 s
     * to create on a switch to an adapter not resident.
     */
    maxAdapterContexts: z.number().int().min(1).max(64).default(2),
    /** An adapter context unused this long is freed. */
    adapterContextIdleMs: z.number().int().min(1000).max(86_400_000).default(300_000),
  }).prefault({}),
  audit: z.strictObject({
    /** The log's name in every checkpoint (C2SP origin); pick one per site and never reuse it for another log. */
    origin: z.string().regex(/^[\x21-\x7e]{1,200}$/, "printable ASCII without spaces").default("atomic.local/audit"),
    /** Folder of the signing key and the content-hash key; absent → <dataDir>/keys. Never inside the database. */
    keyDir: z.string().min(1).optional(),
    /** Events sequenced per batch, and how often the sequencer looks for new ones. */
    batchSize: z.number().int().min(1).max(10_000).default(1000),
    intervalMs: z.number().int().min(1).max(60_000).default(100),
    /**
     * Refused requests (401, 429) of one source, code and route within this window after the first are written as
     * one `request.refused` event with a count when it ends, so that a flood cannot grow the log without bound.
     */
    refusalWindowMs: z.number().int().min(100).max(3_600_000).default(60_000),
  }).prefault({}),
  auth: z.strictObject({
    /** Bearer JWTs from the site's identity provider; absent → only API keys authenticate. */
    jwt: z.strictObject({
      /** Local JWKS file with the provider's public keys; never fetched over the network. */
      jwksFile: z.string().min(1),
      issuer: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
      audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
      algorithms: z.array(z.enum(["EdDSA", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "RS256", "RS384", "RS512"])).min(1).default(["EdDSA", "ES256"]),
      typ: z.string().min(1).max(64).default("JWT"),
      clockToleranceSec: z.number().int().min(0).max(300).default(30),
      tenantClaim: z.string().min(1).max(64).default("tenant"),
      scopeClaim: z.string().min(1).max(64).default("scope"),
      maxTokenBytes: z.number().int().min(256).max(65_536).default(8192),
      /** Refuse tokens issued (`iat`) longer ago than this, and tokens without `iat`; absent: only `exp` limits a token. */
      maxTokenAgeSec: z.number().int().min(1).max(31_536_000).optional(),
    }).optional(),
    /** How long a looked-up API key is trusted before the database is asked again: the longest a revocation waits. */
    apiKeyCacheMs: z.number().int().min(0).max(300_000).default(5000),
    /**
     * On a start with no active API key and no JWT provider, issue one admin key for tenant "default" into
     * <dataDir>/admin-api-key (0600), so that a fresh install can be called at all.
     */
    bootstrapAdminKey: z.boolean().default(true),
  }).prefault({}),
  policy: z.strictObject({
    /** The policy set (Cedar files, schema, entities.json, tests/): loaded and validated at start; a bad set stops it. */
    dir: z.string().min(1).default("policies"),
    /**
     * How often each gateway looks for a policy reload made on another gateway of the database, after which it
     * reloads its own folder (src/policy/reloads/follower.ts).
     */
    reloadRefreshMs: z.number().int().min(100).max(60_000).default(5000),
  }).prefault({}),
  bidding: z.strictObject({
    /** A chat, completion or task request that names no model: chosen by bidding ("auto") or the default model. */
    omittedModel: z.enum(["auto", "default"]).default("auto"),
    /** Global criteria (weights and constraints); a tenant's and then a request's override them field by field. */
    criteria: CriteriaSchema.optional(),
    tenants: z.record(TenantName, CriteriaSchema).default({}),
    /**
     * The learner: LinUCB on the request's shape ("linucb"), or Thompson sampling over per-model logistic
     * regressions that also read its content ("logistic-ts", experimental: on the replay bench it does not yet beat
     * LinUCB; see docs/architecture.md, Bidding).
     */
    policy: z.enum(["linucb", "logistic-ts"]).default("linucb"),
    /**
     * What the learner reads of a request's content: nothing ("none"), hashed word n-grams ("hashed"), or the
     * prompt's embedding by the manifest's embedding model ("embedding"; hashed, with a logged reason, when none
     * is pinned). Only the logistic-ts learner reads content; LinUCB reads the shape whatever this says.
     */
    features: z.enum(["none", "hashed", "embedding"]).default("none"),
    /**
     * Shadow runs (docs/architecture.md, Bidding): the share of requests sent to a dearer model on which the
     * cheapest eligible one, when idle, also answers after the answer has gone, so the learner sees how it would have
     * done. 0: off.
     */
    shadowRate: z.number().min(0).max(1).default(0),
  }).prefault({}),
  adaptation: z.strictObject({
    /** Adaptation of chat, completion and synchronous task requests (docs/architecture.md, Inference-time adaptation). */
    enabled: z.boolean().default(true),
    /** Explicit feedback scores a task class needs before plans are learned for it (until then requests run as sent). */
    minFeedback: z.number().int().min(1).max(10_000).default(3),
    exemplars: z.strictObject({
      /** Feedback score from which an execution may be shown as an exemplar. */
      minScore: z.number().min(0).max(1).default(0.75),
      /** Exemplars per request, and the prompt tokens (estimated) they may add. */
      maxCount: z.number().int().min(0).max(32).default(4),
      maxPromptTokens: z.number().int().min(0).max(32_768).default(512),
      /** Most recently rated examples compared with each request. */
      candidates: z.number().int().min(1).max(5000).default(200),
    }).prefault({}),
    parameters: z.strictObject({
      /** What a generation gets when neither the request nor the learner sets a value; absent: the engine's default. */
      defaults: z.strictObject(SAMPLING_FIELDS).partial().extend({ temperature: SAMPLING_FIELDS.temperature.default(0.7) }).prefault({}),
      /** Bounds on learned values (the request's explicit values are taken as they are). */
      bounds: z.strictObject(Object.fromEntries([...Object.keys(SAMPLING_FIELDS), "maxTokens"].map((field) => [field, Bound.optional()])) as Record<keyof typeof SAMPLING_FIELDS | "maxTokens", z.ZodOptional<typeof Bound>>).prefault({}),
    }).prefault({}),
    /** Latency exemplars may add at most, at the model's measured prompt speed; null: only the token budget. */
    maxAddedLatencyMs: z.number().min(1).max(600_000).nullable().default(null),
    /** Learned updates between saves of the learner state. */
    saveEvery: z.number().int().min(1).max(10_000).default(20),
    /** Tenant and task-class pairs kept; the least recently used go first. */
    maxClasses: z.number().int().min(1).max(1_000_000).default(10_000),
    /**
     * Fits started by ratings (docs/architecture.md, automatic fits): once a tenant's task class has `minExamples`
     * new ratings on a model, an adapter is fitted from its most recent `maxExamples` and promoted only if it beats
     * the one in service. Off by default: a fit takes a CPU core for seconds to minutes on the gateway's host.
     */
    autoFit: z.strictObject({
      enabled: z.boolean().default(false),
      minExamples: z.number().int().min(6).max(100_000).default(50),
      maxExamples: z.number().int().min(6).max(5000).default(1000),
    }).prefault({}),
  }).prefault({}),
  limits: z.strictObject({
    /** For every tenant not listed under `tenants`; null fields: no limit. */
    default: z.strictObject({
      requestsPerMinute: TENANT_LIMIT_FIELDS.requestsPerMinute.default(null),
      burst: TENANT_LIMIT_FIELDS.burst.default(20),
      tokensPerDay: TENANT_LIMIT_FIELDS.tokensPerDay.default(null),
    }).prefault({}),
    /** Per tenant, replacing the default's fields it sets. */
    tenants: z.record(TenantName, TenantLimitsSchema).default({}),
    /** How long a tenant's token count is reused: a busy tenant can overrun its budget by this much traffic. */
    tokenUsageRefreshMs: z.number().int().min(0).max(60_000).default(1000),
    /**
     * How often each gateway reads the tenants' settings stored over HTTP again: the longest a change made on another
     * gateway of the same database waits to apply here.
     */
    tenantSettingsRefreshMs: z.number().int().min(100).max(60_000).default(5000),
  }).prefault({}),
  retention: z.strictObject({
    /** For every tenant not listed under `tenants`. */
    default: z.strictObject({
      days: RetentionDays.default(null),
    }).prefault({}),
    /** Per tenant, replacing the default. */
    tenants: z.record(TenantName, TenantRetentionSchema).default({}),
    /** How often each gateway erases the content past its tenant's retention (the first pass shortly after start). */
    intervalMs: z.number().int().min(1000).max(86_400_000).default(3_600_000),
    /** Executions erased per transaction and audit event, by the retention job and by erasure requests alike. */
    batchSize: z.number().int().min(1).max(10_000).default(500),
  }).prefault({}),
  egress: z.strictObject({
    /**
     * host:port (or host:*) the gateway process may connect to besides its database (added by itself) and unix
     * sockets. Enforced in-process by `atomic serve`; the site firewall remains the boundary.
     */
    allow: z.array(z.string().min(1)).default([]),
    selfTest: z.strictObject({
      /** strict: refuse to start when a probe gets out; warn: start and log it; off: no probe. */
      mode: z.enum(["strict", "warn", "off"]).default("strict"),
      /**
       * IP:port outside this network that an isolated host must not reach (IP literals: no DNS query), chosen by
       * the site (its proxy, a public resolver). None by default: Atomic makes no outbound attempt it was not
       * told to make, so the probe runs only where an operator configured it.
       */
      targets: z.array(z.string().regex(PROBE_TARGET, "an IP:port")).default([]),
      timeoutMs: z.number().int().min(50).max(30_000).default(1500),
    }).prefault({}),
  }).prefault({}),
  temporal: z.strictObject({
    /** Orchestration: asynchronous tasks (POST /v1/tasks mode "async") and webhooks. false: those answer 503. */
    enabled: z.boolean().default(true),
    /**
     * host:port of the site's Temporal frontend. Absent: `atomic serve` starts and supervises Temporal's dev server
     * on 127.0.0.1 (SQLite under <dataDir>/temporal), from the project-local CLI `npm run temporal:install` puts there.
     */
    address: z.string().regex(HOST_PORT, "host:port").optional(),
    namespace: z.string().min(1).max(200).default("default"),
    /** The dev server's frontend port when Atomic starts it; 0: a free one. */
    devServerPort: z.number().int().min(0).max(65535).default(7233),
    /**
     * The dev server's web UI, served on 127.0.0.1 only at this port when Atomic starts the dev server (the gateway
     * or `atomic worker --dev-server`); it fetches nothing from outside. 0: no UI (headless), the default.
     */
    devServerUiPort: z.number().int().min(0).max(65535).default(0),
    /**
     * Run task workflows and serve this gateway's models as a Temporal worker inside the gateway process. false:
     * `atomic worker` processes do that, and the gateway starts tasks (it always serves its own queue, where the
     * learner and the webhook signing key live).
     */
    worker: z.boolean().default(true),
    /** Names this host's inference queue (atomic-inference-<hostId>); absent: the host name. */
    hostId: z.string().regex(HOST_ID_PATTERN, "letters, digits, dot, dash, underscore").optional(),
  }).prefault({}),
  webhooks: z.strictObject({
    /**
     * Origins (scheme://host:port, exactly) an asynchronous task's webhook may be sent to; none by default. Each is
     * also let through the egress guard.
     */
    allow: z.array(z.string().regex(ORIGIN, "an origin such as http://10.0.0.5:8443")).default([]),
    /** Deliveries per webhook before it is given up (retried with exponential backoff from 1 s up to 1 min). */
    maxAttempts: z.number().int().min(1).max(50).default(8),
  }).prefault({}),
  metrics: z.strictObject({
    /** Prometheus metrics on GET /metrics. false: nothing is counted and the route does not exist. */
    enabled: z.boolean().default(true),
    /**
     * Serve /metrics on a listener of its own, without credentials, instead of on the gateway's listener behind
     * the metrics:read scope. Loopback only: the series name models, routes and tenants.
     */
    listener: z.strictObject({
      host: z.string().regex(LOOPBACK, "a loopback address (127.0.0.1, ::1 or localhost): this listener asks for no credentials").default("127.0.0.1"),
      /** 0: a free port, chosen at start. */
      port: z.number().int().min(0).max(65535),
    }).optional(),
    /**
     * Tenants the configuration names (limits, bidding, retention) are labelled as themselves; so are this many
     * others, the first seen first; the rest are counted as "(other)", so series stay bounded.
     */
    otherTenants: z.number().int().min(0).max(1000).default(20),
  }).prefault({}),
  tracing: z.strictObject({
    /**
     * OpenTelemetry spans for every request and pipeline step, the W3C `traceparent` a caller sends honoured and
     * carried into Temporal workflows and model hosts, and the trace id in log lines and execution rows. false: the
     * API's no-op tracer answers, no trace id is kept anywhere, and no header is read or sent.
     */
    enabled: z.boolean().default(false),
    /**
     * The collector's OTLP/HTTP traces URL (JSON), such as http://10.0.0.7:4318/v1/traces; a URL whose path is "/"
     * gets /v1/traces. Its host:port must be on egress.allow, or the gateway refuses to start. Absent: spans are
     * made (trace ids in logs and rows, propagation) but exported nowhere.
     */
    endpoint: z.url({ protocol: /^https?$/ }).optional(),
    /** The service.name every span is exported under. */
    serviceName: z.string().min(1).max(200).default("atomic"),
    /** Share of new traces kept (by trace id); a caller's sampled flag in `traceparent` is followed either way. */
    sampleRatio: z.number().min(0).max(1).default(1),
  }).prefault({}),
  log: z.strictObject({
    level: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  }).prefault({}),
});

export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;
