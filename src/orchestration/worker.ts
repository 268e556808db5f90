import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client, type DataConverter } from "@temporalio/client";
import { NativeConnection, Worker, type WorkerOptions } from "@temporalio/worker";
import type { ContentHasher } from "../audit/content-hasher.js";
import type { Logger } from "../observability/logger.js";
import type { Tracing } from "../observability/tracing/interface.js";
import type { PipelineDeps } from "../pipeline/generate.js";
import type { ExecutionStore } from "../store/interface.js";
import { createControlActivities, createGatewayActivities, createInferenceActivities, DEFAULT_CANCEL_CHECK_MS, placeModels, type GatewayActivityDeps } from "./activities/index.js";
import { CachedHostDirectory, TemporalHostDirectory } from "./directory.js";
import { CONTROL_TASK_QUEUE, GATEWAY_TASK_QUEUE, HOST_ID_PATTERN, inferenceTaskQueue, WEBHOOK_TASK_QUEUE } from "./names.js";
import { ensureTemporalRuntime } from "./runtime.js";
import { temporalTracing, WORKFLOW_TRACING_MODULE } from "./tracing.js";
import type { HostAdvertisement, TaskPlacement } from "./types.js";
import { OperatorError } from "../util/operator-error.js";

/** File name of the workflow bundle `npm run build` writes next to this module in dist/orchestration. */
export const WORKFLOW_BUNDLE_FILE = "workflow-bundle.js";

/**
 * Webhook deliveries one gateway runs at once (WEBHOOK_TASK_QUEUE); more wait in the queue, each up to its
 * schedule-to-start timeout (10 min). A delivery to a receiver that never answers holds a slot for its whole HTTP
 * timeout (10 s per attempt by default), so this bounds what such receivers can hold: sockets here, slots there.
 */
export const WEBHOOK_CONCURRENCY = 32;

/** Workflow code: a prebuilt bundle (production), or the source folder's entry, bundled when the worker starts. */
export type WorkflowSource = { bundlePath: string } | { workflowsPath: string };

/** The bundle beside this module when `npm run build` made one, else the workflows entry next to it (tests, tsx). */
export function defaultWorkflowSource(): WorkflowSource {
  const here = dirname(fileURLToPath(import.meta.url));
  const bundlePath = join(here, WORKFLOW_BUNDLE_FILE);
  if (existsSync(bundlePath)) return { bundlePath };
  const ts = join(here, "workflows", "index.ts");
  return { workflowsPath: existsSync(ts) ? ts : join(here, "workflows", "index.js") };
}

/** A host name usable in a task queue name; `atomic worker --host-id` overrides it. */
export function defaultHostId(): string {
  const cleaned = hostname().replace(/[^A-Za-z0-9._-]/g, "-").replace(/^[^A-Za-z0-9]+/, "").slice(0, 100);
  return HOST_ID_PATTERN.test(cleaned) ? cleaned : "host";
}

export interface AtomicWorkerOptions {
  /** The Temporal frontend, host:port. */
  address: string;
  namespace?: string;
  /** Names this model host; its inference queue is inferenceTaskQueue(hostId). */
  hostId: string;
  logger: Logger;
  /** Run task workflows, the host directory and the control activities (CONTROL_TASK_QUEUE). */
  control?: { executions: ExecutionStore; contentHasher: ContentHasher };
  /**
   * Serve inference for these models on this host's queue, and advertise them in the directory: a list, or where
   * the host's pins change while it runs, a function read at every advertisement.
   */
  inference?: {
    pipeline: PipelineDeps;
    models: ReadonlyArray<{ id: string; sha256: string }> | (() => ReadonlyArray<{ id: string; sha256: string }>);
    maxConcurrent?: number;
    /**
     * Whether this host serves `id` now: a model an operator unloaded is left out of the advertisement (from the
     * next one: advertise() makes it at once), so that tasks look for it elsewhere. Absent: every model is served.
     */
    serving?: (id: string) => boolean;
  };
  /**
   * Serve the gateway's own activities: the learner on GATEWAY_TASK_QUEUE, webhooks on WEBHOOK_TASK_QUEUE (and on
   * GATEWAY_TASK_QUEUE for histories from before it). A gateway process does.
   */
  gateway?: GatewayActivityDeps;
  workflows?: WorkflowSource;
  /** Encrypts what Temporal stores (EncryptionCodec); every client and worker of a site uses the same key. */
  payloadCodec?: NonNullable<DataConverter["payloadCodecs"]>[number];
  /** How long an advertisement stays valid without renewal; renewed every third of it. */
  advertisementTtlMs?: number;
  /** How long the locate activity may use a copy of the host directory before it queries the directory again. */
  directoryMaxAgeMs?: number;
  /** How long in-flight activities get to finish on shutdown before they are cancelled. */
  shutdownGraceMs?: number;
  /**
   * How soon a running inference hears that its task was cancelled, and stops: it heartbeats this often, and the
   * worker sends heartbeats no less often. Each heartbeat is a write on the Temporal server; an inference shorter
   * than this sends none. Default DEFAULT_CANCEL_CHECK_MS (activities/inference.ts).
   */
  cancelCheckMs?: number;
  /**
   * How long a workflow task waits for this worker's cache (its sticky queue) before any worker takes it: what a
   * killed worker costs each of its cached workflows. Temporal's default, 10 s, when absent.
   */
  stickyQueueTimeoutMs?: number;
  /** Carries the trace of whoever starts a task through its workflow into its activities; absent: tracing off. */
  tracing?: Tracing;
}

export interface RunningAtomicWorker {
  hostId: string;
  taskQueues: { control?: string; inference?: string; gateway?: string; webhooks?: string };
  /**
   * A client on the workers' own connection (payload codec included), closed with them: tasks it starts with
   * `eager` go straight to this process's control worker when it has one (see SubmitOptions).
   */
  client: Client;
  /**
   * Where the task's models are served now, from the copy of the directory the control activities read, and this
   * process's inference queue, for tasks this process starts eagerly (SubmitOptions.locate). Absent without a
   * control worker.
   */
  locate?: (models: string[]) => Promise<Omit<TaskPlacement, "at">>;
  /**
   * Advertises this host's models as served now (see inference.serving), without waiting for the next renewal; a
   * failure is logged and the renewal tries again. Nothing without an inference worker.
   */
  advertise(): Promise<void>;
  /** Settles when every worker has stopped: resolves after shutdown(), rejects if one fails. */
  done: Promise<void>;
  shutdown(): Promise<void>;
}

/** Temporal cannot be reached: said in one line, with what to do, instead of the native client's transport trace. */
export class TemporalUnreachableError extends OperatorError {
  override readonly name = "TemporalUnreachableError";
}

async function connectToTemporal(address: string): Promise<NativeConnection> {
  try {
    return await NativeConnection.connect({ address });
  } catch (error) {
    // The native client's message nests the OS's reason ("Connection refused", "dns error") in Rust debug output.
    const reason = /message: "([^"]+)"/.exec(String((error as Error)?.message))?.[1] ?? (error as Error)?.message ?? String(error);
    throw new TemporalUnreachableError(
      `cannot reach Temporal at ${address} (${reason}): start it, run this worker with --dev-server, or point --temporal / ATOMIC_TEMPORAL_ADDRESS at a running one`,
      { cause: error },
    );
  }
}

/**
 * Connects to Temporal and runs this process's workers: the control worker (task workflows, host directory,
 * locate/validate/record activities on CONTROL_TASK_QUEUE), the inference worker (runMicrotask on this host's own
 * queue, for the models it has loaded) and/or the gateway's workers (recordOutcomes on GATEWAY_TASK_QUEUE,
 * deliverWebhook on WEBHOOK_TASK_QUEUE), then advertises the host's models in the directory and keeps the advertisement fresh until
 * shutdown.
 */
export async function startAtomicWorker(options: AtomicWorkerOptions): Promise<RunningAtomicWorker> {
  if (!options.control && !options.inference && !options.gateway) throw new Error("a worker needs control duties, inference or gateway activities");
  const namespace = options.namespace ?? "default";
  const log = options.logger.child({ component: "temporal-worker", hostId: options.hostId });
  ensureTemporalRuntime(options.logger);
  const tracing = await temporalTracing(options.tracing);
  const connection = await connectToTemporal(options.address);
  const dataConverter: DataConverter | undefined = options.payloadCodec ? { payloadCodecs: [options.payloadCodec] } : undefined;
  const client = new Client({ connection, namespace, ...(dataConverter ? { dataConverter } : {}), interceptors: { workflow: tracing.client } });
  // Untraced: its renewals every few seconds, outside any request, would each start a trace of their own.
  const directory = new TemporalHostDirectory(new Client({ connection, namespace, ...(dataConverter ? { dataConverter } : {}) }));
  const identity = `${options.hostId}@${hostname()}/${process.pid}`;
  // What every worker of this process shares; each adds its queue and its duties.
  const common = {
    connection,
    namespace,
    ...(dataConverter ? { dataConverter } : {}),
    identity,
    shutdownGraceTime: options.shutdownGraceMs ?? 10_000,
  };
  const workers: Worker[] = [];
  const taskQueues: RunningAtomicWorker["taskQueues"] = {};
  const cancelCheckMs = options.cancelCheckMs ?? DEFAULT_CANCEL_CHECK_MS;
  const inference = options.inference
    ? { taskQueue: inferenceTaskQueue(options.hostId), activities: createInferenceActivities({ pipeline: options.inference.pipeline, hostId: options.hostId, logger: log, cancelCheckMs }) }
    : undefined;
  const cachedDirectory = new CachedHostDirectory(directory, options.directoryMaxAgeMs ?? 2_000);
  try {
    if (options.control) {
      const source = options.workflows ?? defaultWorkflowSource();
      // A prebuilt bundle has the workflow tracing interceptors in it already (bundle.ts).
      const workflowOption: Pick<WorkerOptions, "workflowBundle" | "workflowsPath" | "interceptors"> =
        "bundlePath" in source
          ? { workflowBundle: { codePath: source.bundlePath }, interceptors: { activity: tracing.activity } }
          : { workflowsPath: source.workflowsPath, interceptors: { activity: tracing.activity, workflowModules: [WORKFLOW_TRACING_MODULE] } };
      workers.push(await Worker.create({
        ...common,
        taskQueue: CONTROL_TASK_QUEUE,
        ...workflowOption,
        sinks: tracing.sinks,
        activities: createControlActivities({
          ...options.control,
          directory: cachedDirectory,
          logger: log,
          ...(inference ? { inferenceHere: { taskQueue: inference.taskQueue, runMicrotask: inference.activities.runMicrotask } } : {}),
        }),
        ...(options.stickyQueueTimeoutMs === undefined ? {} : { stickyQueueScheduleToStartTimeout: options.stickyQueueTimeoutMs }),
      }));
      taskQueues.control = CONTROL_TASK_QUEUE;
    }
    if (options.inference && inference) {
      const taskQueue = inference.taskQueue;
      const parallel = modelsOf(options.inference).reduce((sum, m) => sum + (options.inference!.pipeline.models.get(m.id)?.parallel ?? 1), 0);
      workers.push(await Worker.create({
        ...common,
        taskQueue,
        activities: inference.activities,
        interceptors: { activity: tracing.activity },
        // Enough to keep every sequence busy with a short local queue; the engine's admission does the rest.
        maxConcurrentActivityTaskExecutions: options.inference.maxConcurrent ?? Math.max(1, parallel * 2),
        // Left to itself the worker holds heartbeats back to 80 % of the heartbeat timeout (24 s of the default 30).
        maxHeartbeatThrottleInterval: cancelCheckMs,
      }));
      taskQueues.inference = taskQueue;
    }
    if (options.gateway) {
      const activities = createGatewayActivities(options.gateway);
      // Activities only, no workflows: task workflows run on control workers and call these by their queue. The
      // gateway's queue keeps deliverWebhook for tasks whose workflows scheduled it there, before WEBHOOK_QUEUE_PATCH.
      workers.push(await Worker.create({
        ...common,
        taskQueue: GATEWAY_TASK_QUEUE,
        activities,
        interceptors: { activity: tracing.activity },
      }));
      taskQueues.gateway = GATEWAY_TASK_QUEUE;
      // Deliveries in a worker of their own: receivers that hang take its slots, never the learner's.
      workers.push(await Worker.create({
        ...common,
        taskQueue: WEBHOOK_TASK_QUEUE,
        activities: { deliverWebhook: activities.deliverWebhook },
        interceptors: { activity: tracing.activity },
        maxConcurrentActivityTaskExecutions: WEBHOOK_CONCURRENCY,
      }));
      taskQueues.webhooks = WEBHOOK_TASK_QUEUE;
    }
  } catch (error) {
    await connection.close();
    throw error;
  }

  const runs = workers.map((w) => w.run());
  const done = Promise.all(runs).then(() => undefined);
  done.catch(() => undefined);

  // Advertise once the inference worker polls, then renew; a renewal that fails is retried at the next tick.
  const ttlMs = options.advertisementTtlMs ?? 90_000;
  let timer: NodeJS.Timeout | undefined;
  const advertisement = (): HostAdvertisement | undefined =>
    taskQueues.inference && options.inference
      ? {
          hostId: options.hostId,
          taskQueue: taskQueues.inference,
          models: modelsOf(options.inference).filter((m) => options.inference!.serving?.(m.id) ?? true).map((m) => ({ id: m.id, sha256: m.sha256 })),
          advertisedAt: Date.now(),
          ttlMs,
        }
      : undefined;
  const advertise = async () => {
    const ad = advertisement();
    if (!ad) return;
    try {
      await directory.advertise(ad);
    } catch (error) {
      log.warn({ err: error }, "could not advertise this host's models; retrying at the next renewal");
    }
  };
  try {
    if (taskQueues.inference) {
      await directory.advertise(advertisement()!);
      log.info({ taskQueue: taskQueues.inference, models: advertisement()!.models.map((m) => m.id) }, "advertised models");
      timer = setInterval(() => void advertise(), Math.max(1_000, Math.floor(ttlMs / 3)));
      timer.unref();
    }
  } catch (error) {
    for (const w of workers) w.shutdown();
    await done.catch(() => undefined);
    await connection.close();
    throw error;
  }
  log.info({ taskQueues, identity }, "temporal worker running");

  let stopping: Promise<void> | undefined;
  const here = taskQueues.inference ?? null;
  // The directory's copy as it is: a model it names no host for is left to the workflow's locate, which asks again.
  const locate = async (models: string[]) => ({ hosts: placeModels(models, await cachedDirectory.list(), Date.now()), here });
  return {
    hostId: options.hostId,
    taskQueues,
    client,
    ...(taskQueues.control ? { locate } : {}),
    advertise: () => (stopping === undefined ? advertise() : Promise.resolve()),
    done,
    shutdown: () =>
      (stopping ??= (async () => {
        if (timer) clearInterval(timer);
        if (taskQueues.inference) await directory.withdraw(options.hostId).catch((error: unknown) => log.warn({ err: error }, "could not withdraw this host from the directory"));
        for (const w of workers) if (w.getState() === "RUNNING") w.shutdown();
        await done.catch((error: unknown) => log.error({ err: error }, "temporal worker stopped with an error"));
        await connection.close();
        log.info("temporal worker stopped");
      })()),
  };
}

/** The models an inference worker serves now. */
function modelsOf(inference: NonNullable<AtomicWorkerOptions["inference"]>): ReadonlyArray<{ id: string; sha256: string }> {
  return typeof inference.models === "function" ? inference.models() : inference.models;
}
