/**
 * The data that crosses Temporal: workflow inputs and results, activity requests and outcomes. Everything here is
 * plain JSON (Temporal stores it in the workflow's history), and type-only, so workflow code may import it.
 */
import type { AdaptationRequest } from "../adaptation/strategies.js";
import type { ChatMessage } from "../inference/interface.js";
import type { PolicyRecord } from "../pipeline/policy-gate.js";
import type { Actor } from "../store/interface.js";

export type MicrotaskInput = { kind: "chat"; messages: ChatMessage[] } | { kind: "completion"; prompt: string };

/**
 * One unit of a task: one model call. The decomposer being built in src/bidding will produce these, and its
 * bidder will choose `model` and `fallbackModels`; until that is wired, callers build them directly.
 *
 * A dependent microtask sees its predecessors' outputs: "{{id}}" anywhere in its prompt or messages is replaced by
 * that predecessor's output, and predecessors it names nowhere are appended as context (see resolveMicrotaskInput).
 */
export interface Microtask {
  /** Unique within the task. */
  id: string;
  /** The model chosen for it. */
  model: string;
  /** Tried in order when `model` fails or times out on every host that serves it. */
  fallbackModels?: string[];
  input: MicrotaskInput;
  /** Ids of the microtasks whose outputs this one needs; microtasks that do not depend on each other run in parallel. */
  dependsOn: string[];
  options?: { maxTokens?: number; temperature?: number; topP?: number; seed?: number; stop?: string[] };
  /** A JSON Schema the output must satisfy: decoding is constrained to it, and the result is validated against it. */
  schema?: Record<string, unknown>;
}

/** Timeouts and retries of a task's steps. Absent fields take DEFAULT_TASK_POLICY's values (workflows/task.ts). */
export interface TaskPolicy {
  inference: {
    /** One inference attempt, from start to result. */
    startToCloseMs: number;
    /** How long an inference waits for its host's worker to pick it up: a host that is gone times out here. */
    scheduleToStartMs: number;
    /** A worker that stops heartbeating (killed, partitioned) is given up on after this long and the try repeated. */
    heartbeatMs: number;
    /** Tries on one host before the workflow moves on to the next host or model. */
    maximumAttempts: number;
    initialIntervalMs: number;
  };
  /** Hosts tried for one model before falling back to the next model. */
  hostsPerModel: number;
  /** Delivery of the task's webhook: tries with exponential backoff (doubling) until one is answered 2xx. */
  webhook: {
    /** Tries in all, the first included; then the result says the webhook failed (the task keeps its status). */
    maximumAttempts: number;
    /** Wait before the second try; each later wait doubles, up to maximumIntervalMs. */
    initialIntervalMs: number;
    maximumIntervalMs: number;
    /** One try, from start to the receiver's answer. */
    startToCloseMs: number;
  };
}

export interface TaskPolicyInput {
  inference?: Partial<TaskPolicy["inference"]>;
  hostsPerModel?: number;
  webhook?: Partial<TaskPolicy["webhook"]>;
}

export interface TaskInput {
  /** A UUID: the workflow id, and the id of the task's own execution record. */
  taskId: string;
  requestId: string;
  actor: Actor;
  microtasks: Microtask[];
  policy?: TaskPolicyInput;
  /**
   * How the sinks' outputs become the task's result when the task was decomposed: "list" — the outputs in microtask
   * order (a request of enumerated items); "merge" — one object with each sink's object's properties (a schema split
   * into parts). Absent: the single sink's output, else an object of outputs by microtask id.
   */
  assembly?: "list" | "merge";
  /**
   * The task was routed by bidding, under a decision whose execution id is the task id: once it is recorded, each
   * model microtask's outcome goes back to the learner (recordOutcomes on GATEWAY_TASK_QUEUE).
   */
  learn?: boolean;
  /**
   * POSTed the task's outcome once it is recorded (deliverWebhook on WEBHOOK_TASK_QUEUE; GATEWAY_TASK_QUEUE in
   * histories from before it), retried with backoff.
   */
  webhook?: { url: string };
  /**
   * What inference-time adaptation needs of the submission, passed to every microtask's inference. Absent in tasks
   * submitted before it existed: their microtasks run without adaptation (their classification is not known, and
   * neither exemplars nor adapters are chosen without one).
   */
  adaptation?: TaskAdaptation;
  /**
   * Where the submitting process found the task's models when it started the workflow, and its own host queue: the
   * workflow task that the start hands straight back to that process (eager start) runs the first microtasks
   * without a locate activity first. Used only while fresh (PLACEMENT_MAX_AGE_MS); absent, stale or naming no host
   * for a model, the workflow locates as before.
   */
  placement?: TaskPlacement;
}

export interface TaskPlacement {
  /** When it was read, milliseconds since the epoch (the submitting process's clock). */
  at: number;
  /** Host task queues per model, freshest first, as locateModels answers. */
  hosts: Record<string, string[]>;
  /** The submitting process's own inference queue, null when it serves no models. */
  here: string | null;
}

/**
 * The task as submitted, for adaptation on the inference worker (which runs no policy of its own): the decision
 * that cleared it at the gateway — its data classification above all: exemplars and adapters come from the task's
 * tenant only, at or below it — and the caller's task label and adaptation choice.
 */
export interface TaskAdaptation {
  /** The policy decision at submission (classification, PII kinds found, purpose, whether the task was redacted). */
  policy: PolicyRecord;
  /** `atomic_task`: the task class adaptation learns under. */
  task?: string;
  /** `atomic_adaptation`: "auto" (absent), "off", or the strategies to apply. */
  request?: AdaptationRequest;
}

/** What recordOutcomes is told: the task (its decision) and every microtask that ran on a model. */
export interface RecordOutcomesRequest {
  taskId: string;
  tenant: string;
  microtasks: Array<Pick<MicrotaskResult, "id" | "status" | "model" | "executionId" | "promptTokens" | "completionTokens" | "error">>;
}

/** One delivery of a finished task's outcome to its webhook. */
export interface WebhookRequest {
  taskId: string;
  tenant: string;
  url: string;
  /** What the receiver gets as the JSON body. */
  body: WebhookBody;
}

export interface WebhookBody {
  object: "task.event";
  type: "task.succeeded" | "task.failed";
  taskId: string;
  status: TaskResult["status"];
  result: unknown;
  error: TaskResult["error"] | null;
  /** Where the caller reads the task and its execution record. */
  links: { task: string; execution: string };
}

export interface WebhookOutcome {
  delivered: boolean;
  /** Attempts made, this one included. */
  attempts: number;
  /** The receiver's HTTP status on the last attempt; null when no answer came. */
  status: number | null;
}

/**
 * Activities only the gateway process runs: they need what lives there — the bidding learner and the signing key.
 * recordOutcomes on GATEWAY_TASK_QUEUE; deliverWebhook on WEBHOOK_TASK_QUEUE (and on GATEWAY_TASK_QUEUE for
 * histories from before that queue).
 */
export interface GatewayActivities {
  /** Feeds each microtask's outcome (tokens, timings from its execution record, errors) to the learner. */
  recordOutcomes(request: RecordOutcomesRequest): Promise<{ recorded: number }>;
  /** POSTs the signed outcome; throws (and Temporal retries with backoff) until the receiver answers 2xx. */
  deliverWebhook(request: WebhookRequest): Promise<WebhookOutcome>;
}

/** A try that did not produce the microtask's output, kept in the result so fallbacks are on the record. */
export interface FailedAttempt {
  model: string;
  /** The host's task queue; null when no host serves the model. */
  taskQueue: string | null;
  /** failed: the model or host answered with an error; timed_out: no answer in time; no_host: nobody serves it. */
  outcome: "failed" | "timed_out" | "no_host";
  code: string;
  message: string;
}

export interface MicrotaskResult {
  id: string;
  status: "succeeded" | "failed" | "skipped";
  model?: string;
  modelDigest?: string;
  taskQueue?: string;
  /** The execution record of the inference that produced the output. */
  executionId?: string;
  text?: string;
  /** The parsed output, for microtasks with a schema. */
  value?: unknown;
  promptTokens: number;
  completionTokens: number;
  /** Every model or host that failed or timed out before the one that answered (all of them when none did). */
  fallbacks: FailedAttempt[];
  /** Why it failed or was skipped. */
  error?: { code: string; message: string };
}

export interface TaskResult {
  taskId: string;
  status: "succeeded" | "failed";
  /** The assembled output: the output of the one microtask nothing depends on, or an object of them by id. */
  result: unknown;
  microtasks: MicrotaskResult[];
  /** The task's own execution record (same id as the task). */
  executionId: string;
  error?: { code: string; message: string; details?: unknown };
  /** After the record: whether the learner was told (absent when the task was not routed by bidding). */
  learning?: { recorded: number } | { skipped: string } | PendingNotification;
  /** After the record: the webhook's delivery (absent when the task has none). */
  webhook?: WebhookOutcome | { failed: string } | PendingNotification;
}

/**
 * A notification not yet over: what the task's state (taskStateQuery) shows for `learning` or `webhook` while the
 * recorded task tells the learner or its webhook. Never in the workflow's own result, which waits for both.
 */
export interface PendingNotification {
  pending: true;
}

/**
 * What a task workflow answers the `cancel` update, decided in the workflow in order with what the task does:
 * "cancelling" to the first cancel while the task's result is not yet final (the task is then cancelled: its
 * inferences stop, nothing is recorded), "already_cancelling" to any later one, and "recorded" once the record is
 * being written or is written (the result is final; a pending webhook is still delivered).
 */
export type TaskCancelAnswer = "cancelling" | "already_cancelling" | "recorded";

/** What an inference activity is asked: one microtask on one model, with its predecessors' outputs. */
export interface InferenceRequest {
  taskId: string;
  requestId: string;
  actor: Actor;
  microtask: Microtask;
  model: string;
  predecessors: Record<string, string>;
  /**
   * The task teaches the learner itself once it is recorded (TaskInput.learn), under its bidding decision: this
   * execution must not teach it a second lesson of its own.
   */
  taskLearns?: boolean;
  /** The task's TaskInput.adaptation; absent (a task from before it): the inference runs without adaptation. */
  adaptation?: TaskAdaptation;
  /**
   * Milliseconds since the epoch that the try's execution id is built on, instead of when the try was scheduled: a
   * local activity is scheduled afresh when its workflow task is retried elsewhere, and the id must not change.
   */
  idTimeMs?: number;
}

/** A microtask's inference run by the worker that runs its workflow, for the model host of this very process. */
export interface LocalInferenceRequest extends InferenceRequest {
  /** The host queue the workflow chose: refused (code `not_here`) by a worker whose process is not that host. */
  taskQueue: string;
}

export interface InferenceOutcome {
  executionId: string;
  model: string;
  modelDigest: string;
  hostId: string;
  text: string;
  value?: unknown;
  promptTokens: number;
  completionTokens: number;
  /** The answer was found already recorded by an earlier try whose worker died before reporting it; not re-run. */
  recovered: boolean;
}

/** What a model host's worker tells the directory: where to send inference for which models. */
export interface HostAdvertisement {
  hostId: string;
  taskQueue: string;
  models: Array<{ id: string; sha256: string }>;
  /** Milliseconds since the epoch, on the host's clock. */
  advertisedAt: number;
  /** The advertisement is stale after this long unless renewed (the worker renews it at a third of this). */
  ttlMs: number;
}

export interface ValidationProblem {
  microtask: string;
  code: string;
  message: string;
  violations?: unknown[];
}

export interface RecordTaskRequest {
  input: TaskInput;
  result: TaskResult;
  /** Workflow start, ISO 8601. */
  startedAt: string;
}

/** Activities on the control queue: anything that needs the directory or the database but no model. */
export interface ControlActivities {
  /** The task queues of the hosts that advertise each model, freshest first; stale advertisements left out. */
  locateModels(models: string[]): Promise<Record<string, string[]>>;
  /**
   * The same, and the inference queue of the process running this activity (null when it serves no inference),
   * for a workflow that can then run a microtask's inference right where it runs.
   */
  locateModelsHere(models: string[]): Promise<{ placement: Record<string, string[]>; here: string | null }>;
  /** A short microtask's inference as a local activity of the worker running the workflow, on its own host. */
  runMicrotaskHere(request: LocalInferenceRequest): Promise<InferenceOutcome>;
  /** Re-checks every succeeded microtask's output (schema, presence) before the result is assembled. */
  validateResults(request: { microtasks: Microtask[]; results: MicrotaskResult[] }): Promise<ValidationProblem[]>;
  /** Writes the task's execution record (and its audit event) once, however often it is retried. */
  recordTask(request: RecordTaskRequest): Promise<{ executionId: string; alreadyRecorded: boolean }>;
}

/** Activities on a model host's own queue (inferenceTaskQueue(hostId)). */
export interface InferenceActivities {
  /** One microtask on one model through the gateway's pipeline: inference, validation, execution record. */
  runMicrotask(request: InferenceRequest): Promise<InferenceOutcome>;
}
