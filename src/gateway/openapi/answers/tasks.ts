import { z } from "zod";
import { answerSchema } from "../registry.js";
import { Count, SchemaRef, Timestamp, Usage } from "./common.js";

/** Answers about tasks, executions and their bidding decisions. */

const Id = z.uuid();

/**
 * The bidding decision record (bidding/decision.ts): plain JSON with a versioned shape that only gains fields,
 * hence open objects. Null where the caller named the model and nothing was bid for.
 */
export const Decision = answerSchema("Decision", z.looseObject({
  version: z.int().min(1),
  executionId: z.string(),
  createdAt: Timestamp,
  policy: z.looseObject({ name: z.string(), frozen: z.boolean(), epoch: Count }),
  criteria: z.looseObject({
    weights: z.looseObject({ quality: z.number(), cost: z.number(), latency: z.number() }),
    constraints: z.looseObject({ maxLatencyMs: z.number().nullable(), maxCost: z.number().nullable(), minConfidence: z.number().nullable() }),
    sources: z.record(z.string(), z.enum(["request", "tenant", "global", "default"])),
  }),
  planner: z.string(),
  microtasks: z.array(z.looseObject({
    id: z.string(),
    kind: z.string(),
    executor: z.string(),
    dependsOn: z.array(z.string()),
    parallel: z.boolean(),
    fills: z.array(z.string()).nullable(),
    features: z.looseObject({}).nullable(),
    bids: z.array(z.looseObject({ model: z.string(), confidence: z.number(), cost: z.number(), latencyMs: z.number(), score: z.number(), eligible: z.boolean(), excludedBy: z.array(z.string()) })),
    choice: z.looseObject({ model: z.string(), mode: z.string(), greedyModel: z.string(), reason: z.string() }).nullable(),
  })),
}));

const TaskLinks = z.object({ self: z.string(), events: z.string(), cancel: z.string(), execution: z.string() });

/** POST /v1/tasks, mode sync: the result, validated against the schema when one was given. */
export const TaskResult = answerSchema("TaskResult", z.object({
  id: Id.describe("the execution's id"),
  object: z.literal("task"),
  status: z.literal("succeeded"),
  model: z.string(),
  result: z.unknown().describe("the JSON value the schema describes, or text when there is no schema"),
  schema: SchemaRef.nullable().describe("the registry schema used; null for an inline schema or none"),
  attempts: z.int().min(1),
  usage: Usage,
  execution: z.string().describe("where the execution record is read"),
}));

/** POST /v1/tasks, mode async (202). */
export const TaskAccepted = answerSchema("TaskAccepted", z.object({
  id: Id,
  object: z.literal("task"),
  mode: z.literal("async"),
  status: z.literal("queued"),
  microtasks: z.array(z.object({ id: z.string(), model: z.string(), fallback_models: z.array(z.string()), depends_on: z.array(z.string()) })),
  redacted: z.boolean().describe("whether the work was redacted before it was planned"),
  links: TaskLinks,
}));

const FailedAttempt = z.object({
  model: z.string(),
  taskQueue: z.string().nullable(),
  outcome: z.enum(["failed", "timed_out", "no_host"]),
  code: z.string(),
  message: z.string(),
});

const MicrotaskResult = z.object({
  id: z.string(),
  status: z.enum(["succeeded", "failed", "skipped"]),
  model: z.string().optional(),
  modelDigest: z.string().optional(),
  taskQueue: z.string().optional(),
  executionId: z.string().optional(),
  text: z.string().optional(),
  value: z.unknown().optional(),
  promptTokens: Count,
  completionTokens: Count,
  fallbacks: z.array(FailedAttempt),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});

const common = { id: Id, object: z.literal("task"), mode: z.literal("async"), links: TaskLinks };

/**
 * taskBody in routes/v1_tasks_get.ts: a running task, a finished one (its result recorded: final, though its
 * webhook may still be pending), or one that ended otherwise.
 */
const RunningTask = z.object({
  ...common,
  status: z.literal("running"),
  progress: z.object({
    taskId: z.string(),
    status: z.enum(["running", "validating", "recording", "notifying", "cancelling", "succeeded", "failed"]),
    microtasks: z.array(z.object({ id: z.string(), state: z.enum(["pending", "running", "succeeded", "failed", "skipped"]), model: z.string().optional(), fallbacks: Count })),
  }).nullable(),
});
/**
 * A notification of a recorded task still under way: the result is final and served, the learner or the webhook
 * not told yet (a webhook receiver may be slow, or retried with backoff). GET the task again for its outcome.
 */
const Pending = z.object({ pending: z.literal(true) });
const CompletedTask = z.object({
  ...common,
  status: z.enum(["succeeded", "failed"]),
  result: z.unknown(),
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }).nullable(),
  microtasks: z.array(MicrotaskResult),
  learning: z.union([z.object({ recorded: Count }), z.object({ skipped: z.string() }), Pending]).nullable(),
  webhook: z.union([z.object({ delivered: z.boolean(), attempts: Count, status: z.int().nullable() }), z.object({ failed: z.string() }), Pending]).nullable(),
  // Set once the task's execution had its content erased: `result` is then null, and the microtasks' answers and
  // the messages that could quote them are left out.
  content_erased: z.object({ at: Timestamp, audit_event_id: z.string() }).nullable(),
});
const EndedTask = z.object({
  ...common,
  status: z.enum(["failed", "cancelled", "terminated", "timed_out"]),
  error: z.object({ code: z.string(), message: z.string() }),
});

/** One `data:` of GET /v1/tasks/{id}/events: `progress` events, then one `done`. */
export const TaskEvent = answerSchema("TaskEvent", z.union([RunningTask, CompletedTask, EndedTask]));

const withDecision = { decision: Decision.nullable() };
export const Task = answerSchema("Task", z.union([RunningTask.extend(withDecision), CompletedTask.extend(withDecision), EndedTask.extend(withDecision)]));

export const TaskCancelling = answerSchema("TaskCancelling", z.object({ id: z.string(), object: z.literal("task"), status: z.literal("cancelling"), links: TaskLinks }));

export const Execution = answerSchema("Execution", z.object({
  id: Id,
  object: z.literal("execution"),
  request_id: z.string(),
  actor: z.object({ subject: z.string(), tenant: z.string() }),
  endpoint: z.enum(["chat.completions", "completions", "embeddings", "responses", "tasks"]),
  model: z.string(),
  model_sha256: z.string(),
  status: z.enum(["succeeded", "failed"]),
  error_code: z.string().nullable(),
  parameters: z.record(z.string(), z.unknown()).describe("the generation parameters as applied"),
  input: z.unknown().describe("null once erased"),
  output: z.unknown().describe("null when the request failed or its content was erased"),
  schema: SchemaRef.nullable(),
  usage: Usage,
  timings_ms: z.object({ queue: z.number(), inference: z.number(), total: z.number() }),
  created_at: Timestamp,
  completed_at: Timestamp,
  content_erased: z.object({ at: Timestamp, audit_event_id: z.string() }).nullable(),
  trace_id: z.string().nullable().describe("the OpenTelemetry trace the request ran in; null where tracing was off"),
  decision: Decision.nullable(),
}));

export const Feedback = answerSchema("Feedback", z.object({
  object: z.literal("feedback"),
  execution_id: z.string(),
  outcomes: Count.describe("outcomes of the execution the feedback now counts for (0 while it has not finished)"),
  learned: Count.describe("of those, how many the learner took or revised now (none while frozen)"),
  adaptation: z.object({ task_class: z.string(), learned: z.boolean(), corrected: z.boolean() }).nullable(),
}));
