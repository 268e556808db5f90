import { join, resolve } from "node:path";
import type { AuditEvent } from "../audit/core/entry.js";
import type { SigningKey } from "../audit/core/keys.js";
import type { BiddingRouter } from "../bidding/index.js";
import type { Config } from "../config/schema.js";
import type { CatalogModel } from "../models/catalog.js";
import type { Logger } from "../observability/logger.js";
import { DEV_SERVER_IP, freeLoopbackPort, startDevServer, type TemporalDevServer } from "../orchestration/dev-server.js";
import { DisabledTaskService } from "../orchestration/service/disabled.js";
import type { TaskService } from "../orchestration/service/interface.js";
import { locateTemporalBinary, TemporalBinaryMissingError } from "../orchestration/temporal-binary.js";
import type { RunningAtomicWorker, WorkflowSource } from "../orchestration/worker.js";
import type { PipelineDeps } from "../pipeline/generate.js";
import type { EncryptionCodec } from "../orchestration/payload-codec.js";
import type { GatewayActivityDeps } from "../orchestration/activities/gateway.js";
import type { Tracing } from "../observability/tracing/interface.js";

export interface RunningOrchestration {
  tasks: TaskService;
  /** The Temporal frontend in use; null when orchestration is off. */
  address: string | null;
  /** Advertises the models this process's worker serves now (after an unload or load); nothing when it has none. */
  advertise(): Promise<void>;
  close(): Promise<void>;
}

export interface OrchestrationParts {
  /** Encrypts every payload this gateway and its worker give Temporal. */
  payloadCodec: EncryptionCodec;
  /** The gateway's own pipeline: its worker runs inference on the models this process has loaded. */
  pipeline: PipelineDeps;
  /** The models this process serves now (pins change while it runs: read at every advertisement). */
  catalog: () => readonly CatalogModel[];
  /** Whether a model of the catalog is served here now (not unloaded by an operator): only those are advertised. */
  serving?: (id: string) => boolean;
  router: BiddingRouter;
  /** Outcomes already stored, so that a retried recordOutcomes (on this or another gateway) teaches nothing twice. */
  outcomes: GatewayActivityDeps["outcomes"];
  signingKey: SigningKey;
  audit(event: AuditEvent): Promise<void>;
  /** Tells the egress guard (when there is one) the dev server's address once its free port is chosen. */
  allowEgress?(destination: string): void;
  /** Carries a request's trace into the task workflows it starts. */
  tracing?: Tracing;
  /** The task workflows' code; default: the bundle built with dist, else bundled from source at start. */
  workflows?: WorkflowSource;
}

/**
 * The Temporal frontend the gateway will use, as far as it is known before anything is started: the egress guard
 * must let it through. null when orchestration is off, and when the dev server takes a free port
 * (temporal.devServerPort 0): that address exists only once startOrchestration has chosen it, and goes to the
 * guard then (OrchestrationParts.allowEgress).
 */
export function temporalAddress(config: Config): string | null {
  if (!config.temporal.enabled) return null;
  if (config.temporal.address !== undefined) return config.temporal.address;
  return config.temporal.devServerPort === 0 ? null : `${DEV_SERVER_IP}:${config.temporal.devServerPort}`;
}

/**
 * Orchestration for `atomic serve`: the site's Temporal (temporal.address) or, with none configured, a dev server
 * this process starts and supervises; a client for starting tasks; and this process's worker — always the gateway
 * queue (learner) and the webhook queue (signed deliveries, their own bounded slots), and unless temporal.worker is
 * false the task workflows and inference on the models loaded here.
 */
export async function startOrchestration(config: Config, logger: Logger, parts: OrchestrationParts): Promise<RunningOrchestration> {
  if (!config.temporal.enabled) {
    logger.warn("orchestration is off (temporal.enabled: false): asynchronous tasks and webhooks are refused");
    return { tasks: new DisabledTaskService(), address: null, advertise: async () => undefined, close: async () => undefined };
  }
  const log = logger.child({ component: "orchestration" });
  // The Temporal SDK's worker and client are loaded only when orchestration is on: together they take half a second
  // or more to import, which a gateway without orchestration (and every test that starts one) need not pay.
  const [{ ensureTemporalRuntime }, { TemporalTaskService }, { defaultHostId, startAtomicWorker }] = await Promise.all([
    import("../orchestration/runtime.js"),
    import("../orchestration/service/temporal.js"),
    import("../orchestration/worker.js"),
  ]);
  let devServer: TemporalDevServer | undefined;
  let address = config.temporal.address;
  if (address === undefined) {
    let binary: string;
    try {
      binary = locateTemporalBinary();
    } catch (error) {
      if (error instanceof TemporalBinaryMissingError) {
        throw new TemporalBinaryMissingError(`${error.message} Or set temporal.address to a running Temporal, or temporal.enabled to false to run without asynchronous tasks.`);
      }
      throw error;
    }
    const port = config.temporal.devServerPort === 0 ? await freeLoopbackPort() : config.temporal.devServerPort;
    // Before the dev server starts: its readiness probe is this process's first connection to it.
    if (config.temporal.devServerPort === 0) parts.allowEgress?.(`${DEV_SERVER_IP}:${port}`);
    devServer = await startDevServer({
      binary,
      dataDir: join(resolve(config.dataDir), "temporal"),
      port,
      uiPort: config.temporal.devServerUiPort,
      ...(config.temporal.namespace === "default" ? {} : { namespaces: [config.temporal.namespace] }),
      logger: log,
    });
    address = devServer.address;
  }
  let worker: RunningAtomicWorker;
  const embedded = config.temporal.worker;
  try {
    ensureTemporalRuntime(logger);
    worker = await startAtomicWorker({
      address,
      payloadCodec: parts.payloadCodec,
      namespace: config.temporal.namespace,
      hostId: config.temporal.hostId ?? defaultHostId(),
      logger,
      ...(parts.tracing === undefined ? {} : { tracing: parts.tracing }),
      ...(parts.workflows === undefined ? {} : { workflows: parts.workflows }),
      ...(embedded
        ? {
            control: { executions: parts.pipeline.executions, contentHasher: parts.pipeline.contentHasher },
            inference: { pipeline: parts.pipeline, models: parts.catalog, ...(parts.serving === undefined ? {} : { serving: parts.serving }) },
          }
        : {}),
      gateway: {
        learner: parts.router,
        ...(parts.outcomes === undefined ? {} : { outcomes: parts.outcomes }),
        executions: parts.pipeline.executions,
        signer: parts.signingKey,
        webhookAllow: config.webhooks.allow,
        audit: parts.audit,
        ...(parts.pipeline.metrics === undefined ? {} : { metrics: parts.pipeline.metrics }),
        logger: log,
      },
    });
    log.info({ address, namespace: config.temporal.namespace, devServer: devServer !== undefined, embeddedWorker: embedded }, "orchestration ready");
  } catch (error) {
    await devServer?.stop();
    throw error;
  }
  return {
    // The worker's own client: with the control worker in this process, a task's first workflow task comes back in
    // the start's answer and runs here at once (eager start) instead of going through matching, with where its models
    // are served read here at submission (no locate activity before its first inference).
    tasks: new TemporalTaskService(worker.client, { eager: embedded, ...(embedded && worker.locate ? { locate: worker.locate } : {}) }),
    address,
    advertise: () => worker.advertise(),
    close: async () => {
      await worker.shutdown();
      await devServer?.stop();
    },
  };
}
