import { randomInt } from "node:crypto";
import type { ServerType } from "@hono/node-server";
import type { WorkflowSource } from "../orchestration/worker.js";
import type { Hono } from "hono";
import type { AddressInfo } from "node:net";
import type { Config } from "../config/schema.js";
import { createApp } from "../gateway/app.js";
import { LlamaEngine } from "../inference/llama/engine.js";
import type { Logger } from "../observability/logger.js";
import { ModelDirectory } from "../pipeline/model-directory.js";
import { ModelPinFollower } from "../pipeline/model-pins.js";
import { LiveModels } from "../pipeline/live-models.js";
import { ModelService } from "../pipeline/model-service.js";
import { PostgresModelServiceStore } from "../models/service/postgres.js";
import type { ModelAdmin } from "../gateway/deps.js";
import { startAudit, type RunningAudit } from "./audit.js";
import { catalogFromConfig } from "./catalog.js";
import { engineFromConfig } from "./engine.js";
import { auditKeyPaths, loadSecretKey } from "../audit/key-files.js";
import { EncryptionCodec } from "../orchestration/payload-codec.js";
import { openDatabase, type OpenDatabase } from "./database.js";
import { egressSelfTestEvent, enforceEgressSelfTest, guardProcessEgress, runEgressSelfTest, type ProcessEgressGuard } from "./egress.js";
import { startIdentity, type RunningIdentity } from "./identity.js";
import { openPolicy } from "./policy.js";
import { PolicyFollower } from "../policy/reloads/follower.js";
import { PostgresPolicyReloadLog } from "../policy/reloads/postgres.js";
import { startOrchestration, temporalAddress, type RunningOrchestration } from "./orchestration.js";
import { listenHttp } from "./http-listener.js";
import { loadTls, type TlsMaterial } from "./tls.js";
import { BiddingRouter, LinUcbPolicy, LogisticThompsonPolicy, PostgresBiddingStore } from "../bidding/index.js";
import { seededRng } from "../util/rng.js";
import { contentFeaturizer, PendingOutcomes, type Routing } from "../pipeline/routing.js";
import { redact } from "../redaction/index.js";
import { RateLimiter } from "../limits/rate-limiter.js";
import { TokenBudget } from "../limits/token-budget.js";
import { PostgresTenantSettingsStore } from "../tenants/postgres.js";
import { TenantSettings } from "../tenants/settings.js";
import { ContentEraser } from "../retention/erasure.js";
import { RetentionJob } from "../retention/job.js";
import { openAdaptation, type Adaptation, type AdaptationAdmin } from "../adaptation/index.js";
import { ManifestAdapterCatalog } from "../adaptation/adapters/catalog.js";
import type { Metrics } from "../observability/metrics/interface.js";
import { listenForMetrics, metricsFromConfig, type MetricsListener } from "./metrics.js";
import { AdapterFitService } from "../adaptation/adapters/fit-service.js";
import type { Tracing } from "../observability/tracing/interface.js";
import { startTracing } from "../observability/tracing/setup.js";
import { adoptSpans } from "../observability/tracing/handover.js";

export interface RunningGateway {
  url: string;
  /** The Hono app it serves, for in-process requests (app.request) that skip the socket. */
  app: Hono;
  engine: LlamaEngine;
  audit: RunningAudit;
  /** The Temporal frontend asynchronous tasks run on (a dev server this gateway started, or the site's); null when off. */
  temporalAddress: string | null;
  /** Erases execution content past its tenant's retention on a timer; runOnce() runs a pass now. */
  retention: RetentionJob;
  /** What the gateway counts; served on GET /metrics. */
  metrics: Metrics;
  /** The separate metrics listener (metrics.listener); null when /metrics is on the gateway's own listener or off. */
  metricsUrl: string | null;
  /** OpenTelemetry tracing as configured (off by default); shut down with the gateway. */
  tracing: Tracing;
  close(): Promise<void>;
}

export interface StartGatewayOptions {
  /**
   * Install the process-wide egress guard (see src/egress/guard.ts). `atomic serve` does; tests and benchmarks,
   * which share their process with the clients they run, do not.
   */
  guardEgress?: boolean;
  /**
   * The task workflows' code for this gateway's worker; default: the bundle built with dist, else bundled from
   * source at start (seconds of webpack). Tests that start many gateways hand over one bundle made for the run.
   */
  workflows?: WorkflowSource;
}

/**
 * Assembles the gateway from configuration: tracing, egress self-test, database, audit, identity, models, engine,
 * HTTP server. The self-test runs first, before anything could have been let out, and is recorded once the log is
 * open.
 */
export async function startGateway(config: Config, logger: Logger, options: StartGatewayOptions = {}): Promise<RunningGateway> {
  // A certificate that cannot serve stops the start before anything is opened that would need closing.
  const tls = loadTls(config);
  // So does a trace collector the egress allowlist does not name; from here on, spans are made.
  const tracing = await startTracing(config, logger);
  try {
    return await startGuarded(config, logger, options, tls, tracing);
  } catch (error) {
    await tracing.shutdown();
    throw error;
  }
}

async function startGuarded(config: Config, logger: Logger, options: StartGatewayOptions, tls: TlsMaterial | null, tracing: Tracing): Promise<RunningGateway> {
  const selfTest = await runEgressSelfTest(config, logger);
  // Before the guard: refusals are counted from its first one.
  const metrics = metricsFromConfig(config, logger);
  const guard = options.guardEgress ? guardProcessEgress(config, logger, orchestrationDestinations(config), metrics) : null;
  const database = await openDatabase(config, logger);
  let audit: RunningAudit | undefined;
  try {
    audit = await startAudit(config, database, logger);
    guard?.auditTo(audit.record);
    if (selfTest !== null) await audit.record(egressSelfTestEvent(config, selfTest));
    enforceEgressSelfTest(config, selfTest);
    return await startOnDatabase(config, logger, database, audit, tls, guard, metrics, tracing, options.workflows);
  } catch (error) {
    // A gateway that fails to start (port taken, manifest invalid) must not leave its embedded PostgreSQL behind.
    await audit?.close();
    await database.close();
    throw error;
  }
}

async function startOnDatabase(config: Config, logger: Logger, database: OpenDatabase, audit: RunningAudit, tls: TlsMaterial | null, guard: ProcessEgressGuard | null, metrics: Metrics, tracing: Tracing, workflows: WorkflowSource | undefined): Promise<RunningGateway> {
  const catalog = catalogFromConfig(config, { logger });
  if (catalog.length === 0) logger.warn({ manifest: config.models.manifest }, "no models are pinned; add one with `atomic models add <file.gguf>`");
  // The operators' unloads, on any gateway of the database: a model out of service is not loaded at all.
  const modelService = await ModelService.open(new PostgresModelServiceStore(database.stores.pool), logger.child({ component: "models" }));
  const outOfService = catalog.filter((model) => modelService.isUnloaded(model.id));
  const engine = engineFromConfig(config, catalog.filter((model) => !modelService.isUnloaded(model.id)), logger, (event) => {
    metrics.modelLifecycle(event.modelId, event.kind);
    audit.onModelLifecycle(event);
  }, (spans) => adoptSpans(tracing, spans));
  // Known as unloaded (503 model_unloaded, listed so), not unknown.
  for (const model of outOfService) engine.unload(model.id);
  if (outOfService.length > 0) logger.info({ models: outOfService.map((model) => model.id) }, "models: out of service by an operator's unload; not loaded until loaded again");
  let server: ServerType;
  let metricsListener: MetricsListener | null = null;
  let app: Hono;
  let router: BiddingRouter;
  let pending: PendingOutcomes;
  let adaptation: (Adaptation & { admin: AdaptationAdmin }) | undefined;
  let adapters: ManifestAdapterCatalog | undefined;
  let pins: ModelPinFollower | undefined;
  let orchestration: RunningOrchestration | undefined;
  let identity: RunningIdentity | undefined;
  let tenantSettings: TenantSettings;
  let policyFollower: PolicyFollower | undefined;
  const eraser = new ContentEraser(database.stores.erasure, config.retention.batchSize);
  // Retention set over HTTP (tenant settings) applies from the next pass; the job starts once they are read.
  const retention = new RetentionJob({ config: config.retention, current: () => tenantSettings.retention(), eraser, store: database.stores.erasure, logger: logger.child({ component: "retention" }) });
  try {
    identity = await startIdentity(config, database.stores.apiKeys, audit, logger);
    const policy = openPolicy(config, logger);
    // A reload asked of another gateway of the database: this one reads its own folder again within the interval.
    policyFollower = await PolicyFollower.open(policy, new PostgresPolicyReloadLog(database.stores.pool), audit.record, logger.child({ component: "policy" }));
    pending = new PendingOutcomes();
    // Read on every request below, so that a change made over HTTP applies from the next one.
    tenantSettings = await TenantSettings.open(new PostgresTenantSettingsStore(database.stores.pool), config, logger.child({ component: "tenants" }));
    const requestRate = new RateLimiter((tenant) => tenantSettings.limitsFor(tenant).rate);
    tenantSettings.onLimitsChanged((tenant) => requestRate.forget(tenant));
    const biddingStore = new PostgresBiddingStore(database.stores.pool);
    await engine.start();
    const routingLog = logger.child({ component: "bidding" });
    // After the engine: the embedding featurizer asks its model for the embeddings' dimension.
    const content = await contentFeaturizer(config.bidding.features, catalog, engine, routingLog);
    router = await BiddingRouter.open({
      store: biddingStore,
      featurizer: content.featurizer,
      policy: config.bidding.policy === "logistic-ts"
        ? new LogisticThompsonPolicy({ contentDimension: content.featurizer.dimension, rng: seededRng(randomInt(0x7fffffff)) })
        : new LinUcbPolicy(),
      // Decision records quote n-grams of requests: with PII replaced by placeholders, like every stored text.
      quote: (text) => redact(text).text,
      ...(config.bidding.criteria === undefined ? {} : { criteria: config.bidding.criteria }),
      onSaveError: (error: unknown) => logger.warn({ err: error }, "bidding: saving the learner state failed"),
      ...(config.bidding.shadowRate > 0 ? { shadow: { rate: config.bidding.shadowRate } } : {}),
    });
    const routing: Routing = {
      router,
      pending,
      omittedModel: config.bidding.omittedModel,
      tenantCriteria: (tenant) => tenantSettings.criteriaFor(tenant),
      onTrackingError: (error, executionId) => routingLog.warn({ err: error, executionId }, "bidding: recording an outcome failed"),
      metrics,
      ...(content.embed === undefined ? {} : { embed: content.embed }),
    };
    // What this gateway serves; pins added, changed or removed while it runs change it (ModelPinFollower below).
    const models = new ModelDirectory(catalog, engine, config.models.defaultModel);
    const servedNow = () => models.list().map(({ model }) => model);
    // The LoRA adapters promoted per model and task class in the site's manifest, followed as it changes.
    adapters = new ManifestAdapterCatalog({
      manifestPath: config.models.manifest,
      servedModels: () => servedNow().map((m) => m.id),
      onReloadError: (error) => logger.warn({ err: error }, "adapters: the manifest could not be reloaded; the adapters known before stay in force"),
    });
    adapters.watch();
    adaptation = config.adaptation.enabled
      ? await openAdaptation(config.adaptation, {
        pool: database.stores.pool,
        adapters,
        // Fitted adapters are pinned in the site's manifest, for the models this gateway serves.
        fitService: new AdapterFitService({
          manifestPath: config.models.manifest,
          models: () => servedNow().map((m) => ({ id: m.id, path: m.path, sha256: m.sha256 })),
          record: audit.record,
          threads: config.inference.threads,
        }),
        onFitError: (error: unknown) => logger.error({ err: error }, "adaptation: fitting an adapter failed"),
        onAutoFit: (event) => {
          if (event.kind === "started") logger.info({ job: event.job.id, tenant: event.job.tenant, taskClass: event.job.taskClass, model: event.job.baseModel, examples: event.job.examples }, "adaptation: an automatic fit started");
          else if (event.kind === "refused") logger.info({ ...event.rating, code: event.code, reason: event.message }, "adaptation: no automatic fit for this class yet");
          else logger.error({ err: event.error, ...event.rating }, "adaptation: an automatic fit could not start");
        },
        rng: seededRng(randomInt(0x7fffffff)),
        promptTokenMs: (modelId) => router.speed(modelId).msPerPromptToken,
        onSaveError: (error: unknown) => logger.warn({ err: error }, "adaptation: saving the learner state failed"),
      })
      : undefined;
    // Pins added, changed or removed while the gateway runs are served so without a restart.
    const live = new LiveModels({ engine, models, record: audit.record, logger, outOfService: (id) => modelService.isUnloaded(id) });
    pins = new ModelPinFollower({
      read: () => catalogFromConfig(config), live, models, manifestPath: config.models.manifest, logger,
      // Pins added, replaced or removed: their adapters are served, and this process's Temporal worker advertises
      // what it serves now.
      onChanged: () => {
        adapters?.reloadOrWarn();
        void orchestration?.advertise();
      },
    });
    pins.watch();
    const follower = pins;
    const modelAdmin: ModelAdmin = {
      reload: () => follower.reload(),
      unload: (id, drainTimeoutMs, by) => modelService.unload(id, drainTimeoutMs, by),
      load: (id, by) => modelService.load(id, by),
    };
    const limits = { maxTokensLimit: config.inference.maxTokensLimit, structuredAttempts: config.inference.structuredAttempts };
    orchestration = await startOrchestration(config, logger, {
      // The gateway's adaptation too: its worker's microtasks are adapted (and learned from) as its direct path's
      // requests are, at the classification each task was cleared at on submission.
      pipeline: { engine, models, executions: database.stores.executions, contentHasher: audit.hasher, limits, metrics, ...(adaptation === undefined ? {} : { adaptation }) },
      catalog: servedNow,
      serving: (id) => engine.isHosted(id),
      router,
      outcomes: biddingStore,
      payloadCodec: new EncryptionCodec(loadSecretKey(auditKeyPaths(config).payloadKey, "Temporal payload key")),
      signingKey: audit.key,
      audit: audit.record,
      tracing,
      ...(workflows === undefined ? {} : { workflows }),
      ...(guard === null ? {} : { allowEgress: (destination: string) => guard.allow(destination) }),
    });
    const orchestrated = orchestration;
    // Unloads and loads made here or elsewhere: this process's Temporal worker advertises what it hosts now.
    modelService.follow({ live, models, onChanged: () => void orchestrated.advertise() });
    app = createApp({
      engine,
      models,
      executions: database.stores.executions,
      contentHasher: audit.hasher,
      audit: audit.deps,
      auditStatus: audit.status,
      access: identity.access,
      apiKeys: identity.apiKeys,
      modelAdmin,
      quotas: {
        requests: requestRate,
        tokens: new TokenBudget({ usage: database.stores.executions, budgetFor: (tenant) => tenantSettings.limitsFor(tenant).tokensPerDay, refreshMs: config.limits.tokenUsageRefreshMs }),
      },
      tenantSettings,
      schemas: database.stores.schemas,
      health: database.stores.health,
      logger,
      bodyLimitBytes: config.server.bodyLimitBytes,
      limits,
      routing,
      tasks: orchestration.tasks,
      webhooks: config.webhooks,
      policy,
      policyReloads: policyFollower,
      cors: config.server.cors,
      erasure: eraser,
      ...(adaptation === undefined ? {} : { adaptation }),
      metrics,
      serveMetrics: config.metrics.enabled && config.metrics.listener === undefined,
      traceRequests: tracing.spans !== null,
    });
    const tasks = orchestration.tasks;
    metrics.watch({
      models: () => models.list().map(({ status }) => status),
      audit: () => audit.reader.backlog(),
      auditLeader: () => audit.sequencer.isLeader,
      ...(tasks.countByState === undefined ? {} : { tasks: () => tasks.countByState!() }),
    });
    server = await listenHttp(app.fetch, { host: config.server.host, port: config.server.port, timeouts: config.server, tls });
    metricsListener = await listenForMetrics(config, metrics).catch(async (error: unknown) => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      throw error;
    });
  } catch (error) {
    await policyFollower?.stop();
    await modelService.stop();
    pins?.close();
    await identity?.close();
    await orchestration?.close();
    await engine.close();
    throw error;
  }
  const running = orchestration;
  const access = identity;
  const followed = pins;
  const policyFollowing = policyFollower;
  const address = server.address() as AddressInfo;
  const url = `${tls === null ? "http" : "https"}://${address.family === "IPv6" ? `[${address.address}]` : address.address}:${address.port}`;
  logger.info({ url, models: catalog.map((m) => ({ id: m.id, state: engine.status(m.id)?.state })), ...(metricsListener === null ? {} : { metricsUrl: metricsListener.url }) }, "gateway listening");
  retention.start();
  // Changes other gateways on the database made: in force here within the interval.
  tenantSettings.refreshEvery(config.limits.tenantSettingsRefreshMs);
  // Models other gateways unloaded or loaded: drained and unloaded, or hosted again, here within the interval.
  modelService.refreshEvery(config.models.serviceStateRefreshMs);
  policyFollowing.refreshEvery(config.policy.reloadRefreshMs);

  let closing: Promise<void> | undefined;
  return {
    url,
    app,
    engine,
    audit,
    temporalAddress: running.address,
    retention,
    metrics,
    metricsUrl: metricsListener?.url ?? null,
    tracing,
    close: () =>
      (closing ??= (async () => {
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await metricsListener?.close();
        // A pass in progress ends after its current batch, before the database it writes to goes.
        await retention.stop();
        await tenantSettings.stop();
        await modelService.stop();
        await policyFollowing.stop();
        followed.close();
        // No request can be refused any more: what the current window counted goes into the log before it closes.
        await access.close();
        // Workers first: in-flight activities finish (or are handed back to Temporal) while the engine still runs.
        await running.close();
        await engine.close();
        // What was learned since the last save survives the restart.
        await pending.all();
        await router.checkpoint().catch((error: unknown) => logger.warn({ err: error }, "bidding: final learner save failed"));
        await adaptation?.admin.checkpoint().catch((error: unknown) => logger.warn({ err: error }, "adaptation: final learner save failed"));
        adapters?.close();
        await audit.close();
        await database.close();
        // Last: the spans of everything above, its shutdown included, go out first.
        await tracing.shutdown();
      })()),
  };
}

/** What orchestration connects to: the Temporal frontend and every webhook origin (host:port). */
function orchestrationDestinations(config: Config): string[] {
  const temporal = temporalAddress(config);
  const webhooks = config.webhooks.allow.map((origin) => {
    const url = new URL(origin);
    return `${url.hostname}:${url.port || (url.protocol === "https:" ? "443" : "80")}`;
  });
  return [...(temporal === null ? [] : [temporal]), ...webhooks];
}
