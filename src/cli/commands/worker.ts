import { join, resolve } from "node:path";
import { ContentHasher } from "../../audit/content-hasher.js";
import { auditKeyPaths, loadSecretKey } from "../../audit/key-files.js";
import { EncryptionCodec } from "../../orchestration/payload-codec.js";
import { enqueueAuditEvent } from "../../audit/store/queue.js";
import { openDatabase } from "../../bootstrap/database.js";
import { guardProcessEgress } from "../../bootstrap/egress.js";
import { engineFromConfig } from "../../bootstrap/engine.js";
import { listenForMetrics, metricsFromConfig, type MetricsListener } from "../../bootstrap/metrics.js";
import { LlamaEngine } from "../../inference/llama/engine.js";
import { catalogFromConfig } from "../../bootstrap/catalog.js";
import { DEV_SERVER_IP, startDevServer, type TemporalDevServer } from "../../orchestration/dev-server.js";
import { HOST_ID_PATTERN } from "../../orchestration/names.js";
import { locateTemporalBinary, TemporalBinaryMissingError } from "../../orchestration/temporal-binary.js";
import { defaultHostId, startAtomicWorker } from "../../orchestration/worker.js";
import { ModelPinFollower } from "../../pipeline/model-pins.js";
import { ModelDirectory } from "../../pipeline/model-directory.js";
import { LiveModels } from "../../pipeline/live-models.js";
import { ModelService } from "../../pipeline/model-service.js";
import { PostgresModelServiceStore } from "../../models/service/postgres.js";
import { adoptSpans } from "../../observability/tracing/handover.js";
import { startTracing } from "../../observability/tracing/setup.js";
import type { CommandContext } from "../context.js";
import { OperatorError } from "../../util/operator-error.js";
import { UsageError } from "../usage.js";

/** The options of `atomic worker`, as src/cli/definitions/worker.ts declares them. */
export interface WorkerOptions {
  temporal?: string;
  namespace?: string;
  hostId?: string;
  models?: string[];
  /** false with --no-inference. */
  inference: boolean;
  /** false with --no-control. */
  control: boolean;
  devServer?: boolean;
}

/**
 * `atomic worker`: runs Atomic's Temporal workers until SIGINT or SIGTERM. By default both the control worker
 * (task workflows, host directory, locate/validate/record) and this host's inference worker, which serves the
 * manifest's models on its own task queue and advertises them. Executions are written to the configured database
 * (set DATABASE_URL to the gateway's database when the worker runs on another machine, and copy the gateway's
 * content-hash.key and temporal-payload.key to audit.keyDir there: audit hashes must match, and task payloads are
 * encrypted under the latter).
 */
export async function workerCommand(context: CommandContext, options: WorkerOptions): Promise<number> {
  const hostId = options.hostId ?? process.env["ATOMIC_HOST_ID"] ?? defaultHostId();
  if (!HOST_ID_PATTERN.test(hostId)) throw new UsageError(`--host-id must match ${HOST_ID_PATTERN}`);
  if (!options.inference && !options.control) throw new UsageError("--no-inference and --no-control leave nothing to run");
  const { config, logger } = context;
  // As the gateway's: the tasks it starts continue here, in workflows, activities and model hosts.
  const tracing = await startTracing(config, logger);

  let devServer: TemporalDevServer | undefined;
  let address = options.temporal ?? process.env["ATOMIC_TEMPORAL_ADDRESS"] ?? "127.0.0.1:7233";
  const requestedPort = Number(address.split(":").pop());
  const devPort = Number.isInteger(requestedPort) && requestedPort > 0 ? requestedPort : 7233;
  // A worker reads prompts and runs models as the gateway does, so it gets the same process-wide guard, before it
  // opens anything: open to its database and its Temporal frontend (a dev server it starts is on loopback).
  let guard: ReturnType<typeof guardProcessEgress>;
  try {
    guard = guardProcessEgress(config, logger, [address, ...(options.devServer ? [`${DEV_SERVER_IP}:${devPort}`] : [])]);
  } catch (error) {
    if (error instanceof RangeError) throw new UsageError(`--temporal must be HOST:PORT (${error.message})`);
    throw error;
  }
  if (options.devServer) {
    devServer = await startDevServer({
      binary: temporalBinary(),
      dataDir: join(resolve(config.dataDir), "temporal"),
      port: devPort,
      uiPort: config.temporal.devServerUiPort,
      ...(options.namespace ? { namespaces: [options.namespace] } : {}),
      logger,
    });
    address = devServer.address;
  }

  const database = await openDatabase(config, logger);
  // What this process runs is counted here and served on metrics.listener: a worker has no API listener, and its
  // executions, model hosts and queues would otherwise be counted nowhere.
  const metrics = metricsFromConfig(config, logger);
  let metricsListener: MetricsListener | null = null;
  const recordAudit = (event: Parameters<typeof enqueueAuditEvent>[1]) => enqueueAuditEvent(database.stores.pool, event).catch((error: unknown) => logger.error({ err: error }, "could not queue an audit event"));
  guard.auditTo(recordAudit);
  let engine: LlamaEngine | undefined;
  let modelService: ModelService | undefined;
  let serviceTarget: { live: LiveModels; models: ModelDirectory } | undefined;
  let pins: ModelPinFollower | undefined;
  try {
    const contentHasher = ContentHasher.fromFile(auditKeyPaths(config).contentHashKey);
    let inference;
    if (options.inference) {
      const catalog = catalogFromConfig(config, { logger });
      const wanted = options.models;
      const unknown = wanted?.filter((id) => !catalog.some((m) => m.id === id)) ?? [];
      if (unknown.length > 0) throw new UsageError(`--models names models the manifest does not pin: ${unknown.join(", ")}`);
      const served = wanted ? catalog.filter((m) => wanted.includes(m.id)) : catalog;
      if (served.length === 0) {
        if (!options.control) throw new UsageError("no models to serve: pin one with `atomic models add`");
        // A fresh appliance has no model yet, and its gateway may count on this worker for the task workflows:
        // run those, and serve inference once a model is pinned and the worker restarted.
        logger.warn({ manifest: config.models.manifest }, "no models pinned: running workflows and control activities only; pin one with `atomic models add` and restart the worker to serve inference here");
      } else {
        // The operators' unloads, made on any gateway of the database: a model out of service is not loaded here at all.
        const service = await ModelService.open(new PostgresModelServiceStore(database.stores.pool), logger.child({ component: "models" }));
        modelService = service;
        const outOfService = served.filter((model) => service.isUnloaded(model.id));
        const hosts = engineFromConfig(config, served.filter((model) => !service.isUnloaded(model.id)), logger, (event) => metrics.modelLifecycle(event.modelId, event.kind), (spans) => adoptSpans(tracing, spans));
        engine = hosts;
        for (const model of outOfService) hosts.unload(model.id);
        if (outOfService.length > 0) logger.info({ models: outOfService.map((model) => model.id) }, "models: out of service by an operator's unload; not loaded here until loaded again");
        await hosts.start();
        const models = new ModelDirectory(served, hosts, config.models.defaultModel);
        // Unloads and loads made on a gateway are applied here within models.serviceStateRefreshMs (see below).
        serviceTarget = { live: new LiveModels({ engine: hosts, models, record: recordAudit, logger, outOfService: (id) => service.isUnloaded(id) }), models };
        metrics.watch({ models: () => models.list().map(({ status }) => status) });
        inference = {
          pipeline: {
            engine,
            models,
            executions: database.stores.executions,
            contentHasher,
            limits: { maxTokensLimit: config.inference.maxTokensLimit, structuredAttempts: config.inference.structuredAttempts },
            metrics,
          },
          // What it serves now: pins change while it runs (followed below).
          models: () => models.list().map(({ model }) => model),
          // An unloaded model is not advertised: tasks look for another host, or fall back to their next model.
          serving: (id: string) => hosts.isHosted(id),
        };
      }
    }
    metricsListener = await listenForMetrics(config, metrics);
    if (metricsListener !== null) logger.info({ metricsUrl: metricsListener.url }, "metrics listening");
    else if (config.metrics.enabled) logger.info("metrics.listener is not set: this worker serves no /metrics (it has no API listener to serve them on)");
    const worker = await startAtomicWorker({
      address,
      payloadCodec: new EncryptionCodec(loadSecretKey(auditKeyPaths(config).payloadKey, "Temporal payload key")),
      ...(options.namespace ? { namespace: options.namespace } : {}),
      hostId,
      logger,
      tracing,
      ...(options.control ? { control: { executions: database.stores.executions, contentHasher } } : {}),
      ...(inference ? { inference } : {}),
    });
    if (modelService !== undefined && serviceTarget !== undefined) {
      // What it hosts changed: advertised at once, so that tasks stop (or start) coming here for the model.
      modelService.follow({ ...serviceTarget, onChanged: () => void worker.advertise() });
      modelService.refreshEvery(config.models.serviceStateRefreshMs);
      // Pins added, replaced or removed in the manifest (of those --models names): hosted, then advertised.
      const wanted = options.models;
      pins = new ModelPinFollower({
        read: () => catalogFromConfig(config).filter((model) => wanted === undefined || wanted.includes(model.id)),
        live: serviceTarget.live,
        models: serviceTarget.models,
        manifestPath: config.models.manifest,
        logger,
        onChanged: () => void worker.advertise(),
      });
      pins.watch();
    }
    context.err(`atomic worker ${hostId} on ${address}: ${Object.values(worker.taskQueues).join(", ")}${metricsListener === null ? "" : `; metrics at ${metricsListener.url}/metrics`}`);
    const stopped = await new Promise<"signal" | "failed">((resolveStop) => {
      const stop = (signal: NodeJS.Signals) => {
        logger.info({ signal }, "shutting down");
        resolveStop("signal");
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      worker.done.then(() => resolveStop("failed"), (error: unknown) => {
        logger.error({ err: error }, "temporal worker failed");
        resolveStop("failed");
      });
    });
    pins?.close();
    await modelService?.stop();
    await worker.shutdown();
    return stopped === "signal" ? 0 : 1;
  } finally {
    pins?.close();
    await modelService?.stop();
    await metricsListener?.close();
    await engine?.close();
    await database.close();
    await devServer?.stop();
    await tracing.shutdown();
  }
}

/** The Temporal CLI for --dev-server. Its absence is the machine's to fix, and the message says how: one line. */
function temporalBinary(): string {
  try {
    return locateTemporalBinary();
  } catch (error) {
    if (error instanceof TemporalBinaryMissingError) throw new OperatorError(error.message);
    throw error;
  }
}
