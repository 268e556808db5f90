import type { Context, Hono } from "hono";
import { z } from "zod";
import type { ChatMessage } from "../../inference/interface.js";
import { runGeneration } from "../../pipeline/generate.js";
import { planAsyncTask } from "../../pipeline/task-plan.js";
import { ATTR } from "../../observability/tracing/interface.js";
import { inSpan } from "../../observability/tracing/spans.js";
import { DEFAULT_TASK_INSTRUCTIONS, taskMessages, taskWork } from "../../pipeline/task-prompt.js";
import { taskLinks, webhookAllowed } from "../tasks.js";
import type { StructuredSpec } from "../../pipeline/structured.js";
import { uuidv7 } from "../../util/uuidv7.js";
import { CriteriaSchema } from "../../bidding/index.js";
import { actorOf } from "../actor.js";
import { policySubjectOf } from "../policy-subject.js";
import { setRoutingHeaders } from "../routing-headers.js";
import type { GatewayDeps } from "../deps.js";
import { requireScope } from "../middleware/auth/index.js";
import { requireTokenBudget } from "../middleware/quotas/index.js";
import { ApiError, invalidRequest, notFound } from "../errors.js";
import { readBody } from "../validation.js";
import { usageOf } from "../openai/usage.js";
import { assertUsableSchema } from "./v1_schemas.js";
import { AdaptationFields, adaptationOptions, ExtraSampling } from "../openai/requests.js";

export const TaskRequest = z.strictObject({
  input: z.union([z.string().min(1).max(1_000_000), z.record(z.string(), z.unknown())]),
  instructions: z.string().min(1).max(20_000).optional(),
  schema: z.union([
    z.strictObject({ name: z.string().min(1).max(128), version: z.number().int().min(1).optional() }),
    z.strictObject({ inline: z.record(z.string(), z.unknown()) }),
  ]).optional(),
  model: z.string().min(1).max(128).optional(),
  max_tokens: z.number().int().min(1).optional(),
  temperature: z.number().min(0).max(2).optional(),
  top_p: z.number().gt(0).max(1).optional(),
  seed: z.number().int().min(0).max(2 ** 31 - 1).optional(),
  /** Sampling beyond temperature and top_p: synchronous tasks only. */
  ...ExtraSampling,
  /** The task label and adaptation choice: a synchronous task's, or every microtask's of an asynchronous one. */
  ...AdaptationFields,
  /** How bidding weighs and constrains the models for this task (model "auto" or omitted). */
  criteria: CriteriaSchema.optional(),
  /** sync: answered when done (the direct path). async: 202 at once; the task runs as a durable workflow. */
  mode: z.enum(["sync", "async"]).default("sync"),
  /** async only: POSTed the outcome, signed, when the task is done; its origin must be on webhooks.allow. */
  webhook: z.strictObject({
    url: z.url({ protocol: /^https?$/ }).max(2048)
      // The allow list compares origins, which leave credentials out: such a URL passed it and then never reached
      // its receiver. Receivers authenticate Atomic by the signature instead.
      .refine((url) => { const parsed = new URL(url); return parsed.username === "" && parsed.password === ""; }, "a webhook URL may not carry a user name or password: receivers check the signature"),
  }).optional(),
});
type TaskRequest = z.infer<typeof TaskRequest>;

const SYNC_ONLY = ["top_p", ...Object.keys(ExtraSampling)] as Array<keyof TaskRequest>;

async function resolveSchema(deps: GatewayDeps, tenant: string, body: TaskRequest): Promise<StructuredSpec | undefined> {
  if (!body.schema) return undefined;
  if ("inline" in body.schema) {
    assertUsableSchema(body.schema.inline, "schema.inline");
    return { kind: "json_schema", schema: body.schema.inline, ref: null, param: "schema.inline" };
  }
  const record = await deps.schemas.get(tenant, body.schema.name, body.schema.version);
  if (!record) throw notFound("schema_not_found", `schema ${body.schema.name}${body.schema.version ? ` version ${body.schema.version}` : ""} does not exist`, "schema.name");
  return { kind: "json_schema", schema: record.schema, ref: { name: record.name, version: record.version }, param: "schema" };
}

/**
 * The schema is not in these: the pipeline shows the model the schema as it is given it (redacted or not), and
 * keeps it with the stored input where the registry cannot say what it was. A fit rebuilds this prompt from the
 * stored execution (task-prompt.ts storedTaskMessages): what changes here must change there.
 */
function buildMessages(body: TaskRequest): ChatMessage[] {
  return taskMessages(body.instructions ?? DEFAULT_TASK_INSTRUCTIONS, workOf(body));
}

const workOf = (body: TaskRequest) => taskWork(body.input);

/** POST /v1/tasks — Atomic's own task API: input in, schema-validated result out, execution stored. */
export function registerTasks(app: Hono, deps: GatewayDeps): void {
  app.post("/v1/tasks", requireScope("tasks"), requireTokenBudget(deps.quotas), async (c) => {
    const body = await readBody(c, TaskRequest);
    const actor = actorOf(c);
    if (body.mode === "async") return submitAsync(c, deps, body);
    if (body.webhook) throw invalidRequest("webhook_requires_async", "a webhook is called when an asynchronous task ends: use mode \"async\"", "webhook");
    const structured = await resolveSchema(deps, actor.tenant, body);
    const executionId = uuidv7();
    c.header("x-atomic-execution-id", executionId);
    const outcome = await runGeneration(deps, {
      executionId,
      requestId: c.get("requestId"),
      actor,
      policy: policySubjectOf(c),
      endpoint: "tasks",
      model: body.model,
      input: { kind: "chat", messages: buildMessages(body) },
      recordedInput: { input: body.input, instructions: body.instructions ?? null },
      options: { maxTokens: body.max_tokens, temperature: body.temperature, topP: body.top_p, seed: body.seed, ...adaptationOptions(body) },
      structured,
      showSchema: true,
      ...(body.criteria === undefined ? {} : { criteria: body.criteria }),
      signal: c.req.raw.signal,
      onModel: (_model, decision) => setRoutingHeaders(c, decision),
    });
    return c.json({
      id: executionId,
      object: "task",
      status: "succeeded",
      model: outcome.model.id,
      result: structured ? outcome.value : outcome.text,
      schema: structured?.kind === "json_schema" ? structured.ref : null,
      attempts: outcome.attempts,
      usage: usageOf(outcome),
      execution: `/v1/executions/${executionId}`,
    });
  });
}

/** The async half of POST /v1/tasks: plan, bid, and hand the task to orchestration; 202 with where to follow it. */
async function submitAsync(c: Context, deps: GatewayDeps, body: TaskRequest): Promise<Response> {
  // An asynchronous task's microtasks run on workers with the options a workflow carries; these it does not carry.
  const syncOnly = SYNC_ONLY.find((field) => body[field] !== undefined && body[field] !== null);
  if (syncOnly !== undefined) throw invalidRequest("parameter_requires_sync", `${syncOnly} applies to synchronous tasks only: use mode "sync" or leave it out`, syncOnly);
  if (!deps.tasks.available) {
    throw new ApiError(503, "overloaded_error", "orchestration_unavailable", "asynchronous tasks need orchestration, which is off on this gateway (temporal.enabled: false)", "mode");
  }
  if (body.webhook && !webhookAllowed(deps.webhooks.allow, body.webhook.url)) {
    throw new ApiError(403, "permission_error", "webhook_not_allowed", `webhook origin ${new URL(body.webhook.url).origin} is not on this gateway's webhooks.allow list`, "webhook.url");
  }
  const actor = actorOf(c);
  const structured = await resolveSchema(deps, actor.tenant, body);
  const taskId = uuidv7();
  // Decomposition (and bidding on each microtask) is the one pipeline stage of an asynchronous task run here.
  const planned = await inSpan("decompose", () => planAsyncTask(deps, {
    taskId,
    requestId: c.get("requestId"),
    actor,
    policy: policySubjectOf(c),
    instructions: body.instructions ?? DEFAULT_TASK_INSTRUCTIONS,
    work: workOf(body),
    ...(structured?.kind === "json_schema" ? { schema: structured.schema } : {}),
    model: body.model,
    ...(body.criteria === undefined ? {} : { criteria: body.criteria }),
    options: { maxTokens: body.max_tokens, temperature: body.temperature, seed: body.seed },
    ...(body.atomic_task === undefined ? {} : { task: body.atomic_task }),
    ...(body.atomic_adaptation === undefined ? {} : { adaptation: body.atomic_adaptation }),
    ...(body.webhook ? { webhook: { url: body.webhook.url, maxAttempts: deps.webhooks.maxAttempts } } : {}),
  }), (plan) => ({ [ATTR.microtasks]: plan.input.microtasks.length }));
  if (planned.decision) setRoutingHeaders(c, planned.decision);
  await deps.tasks.submit(planned.input);
  c.header("location", `/v1/tasks/${taskId}`);
  return c.json({
    id: taskId,
    object: "task",
    mode: "async",
    status: "queued",
    microtasks: planned.input.microtasks.map((m) => ({ id: m.id, model: m.model, fallback_models: m.fallbackModels ?? [], depends_on: m.dependsOn })),
    redacted: planned.redacted,
    links: taskLinks(taskId),
  }, 202);
}
