import type { BidRecord, CriteriaInput, RouteDecision } from "../bidding/index.js";
import type { AdaptationRequest } from "../adaptation/strategies.js";
import type { Microtask, TaskAdaptation, TaskInput } from "../orchestration/types.js";
import { Redactor, redactSchema, schemaTexts } from "../redaction/index.js";
import { fromInferenceError } from "../gateway/errors.js";
import { ModelUnavailableError } from "../inference/errors.js";
import type { Actor } from "../store/interface.js";
import type { ModelDirectory } from "./model-directory.js";
import { policyCheck, policyDenied, type PolicySubject } from "./policy-gate.js";
import type { PolicyDecider } from "../policy/index.js";
import { AUTO_MODEL, biddableModels, biddingRequestOf, route, type Routing } from "./routing.js";
import { taskMessages } from "./task-prompt.js";

export interface AsyncTaskRequest {
  taskId: string;
  requestId: string;
  actor: Actor;
  policy: PolicySubject;
  /** The instructions (system) and the work (user), as the synchronous path would send them. */
  instructions: string;
  work: string;
  /** The JSON Schema the result must satisfy, if any. */
  schema?: Record<string, unknown>;
  model: string | undefined;
  criteria?: CriteriaInput;
  options: { maxTokens?: number; temperature?: number; seed?: number };
  /** Where the outcome is POSTed, and how many deliveries before it is given up (webhooks.maxAttempts). */
  webhook?: { url: string; maxAttempts: number };
  /** `atomic_task` and `atomic_adaptation`, for adaptation on the workers that run the microtasks. */
  task?: string;
  adaptation?: AdaptationRequest;
}

export interface PlannedTask {
  input: TaskInput;
  /** The bidding decision (its execution id is the task id); null when the caller named the model. */
  decision: RouteDecision | null;
  /** PII found in the request was replaced by typed placeholders before it entered the workflow. */
  redacted: boolean;
}

export interface TaskPlanDeps {
  models: ModelDirectory;
  routing: Routing;
  policy: PolicyDecider;
}

/**
 * Turns an asynchronous task into the workflow's input: the bidding decomposer's plan (enumerated items in
 * parallel, a schema split into parts), each model microtask with the model that won its auction and, as
 * fallbacks, the other eligible bidders best first. A named model gives one microtask on it.
 *
 * PII never enters Temporal: a workflow's input stays in its history for as long as the history is kept, beyond
 * the reach of erasure, so detected PII is always replaced by placeholders here (and not restored in the result)
 * and only models the policy allows for the redacted data are considered. The schema counts as much as the text:
 * it goes into the workflow too, and its grammar would steer a model to write the values it holds.
 */
export async function planAsyncTask(deps: TaskPlanDeps, request: AsyncTaskRequest): Promise<PlannedTask> {
  const texts = [request.instructions, request.work, ...(request.schema ? schemaTexts(request.schema) : [])];
  const check = policyCheck(deps.policy, request.policy, texts);
  const policy = { decider: deps.policy, subject: request.policy, check };
  const { capable, redact } = biddableModels(deps.models, "chat", policy, "always");
  const redactor = redact ? new Redactor({ detector: check.scan }) : null;
  const instructions = redactor ? redactor.redactText(request.instructions).text : request.instructions;
  const work = redactor ? redactor.redactText(request.work).text : request.work;
  const schema = redactor && request.schema ? redactSchema(request.schema, redactor) : request.schema;
  const options = Object.fromEntries(Object.entries(request.options).filter(([, value]) => value !== undefined));
  // Adaptation on the workers needs the decision made here (the classification above all); the workers run no policy.
  const adaptation: TaskAdaptation = {
    policy: { ...check.record, redacted: redact },
    ...(request.task === undefined ? {} : { task: request.task }),
    ...(request.adaptation === undefined ? {} : { request: request.adaptation }),
  };
  const base = {
    taskId: request.taskId,
    requestId: request.requestId,
    actor: request.actor,
    adaptation,
    ...(request.webhook ? { webhook: { url: request.webhook.url }, policy: { webhook: { maximumAttempts: request.webhook.maxAttempts } } } : {}),
  };

  if (request.model !== undefined && request.model !== AUTO_MODEL) {
    const model = deps.models.resolve(request.model, "chat");
    // Refused now, as a synchronous request naming it is, rather than accepted and failed on every worker.
    if (deps.models.isUnloaded(model.id)) throw fromInferenceError(new ModelUnavailableError("model_unloaded", `model ${model.id} is unloaded: an operator took it out of service`));
    if (!capable.some((listed) => listed.model.id === model.id)) {
      throw policyDenied(`model ${model.id} may not receive this request`, check, []);
    }
    const microtask: Microtask = {
      id: "task",
      model: model.id,
      input: { kind: "chat", messages: taskMessages(instructions, work, schema) },
      dependsOn: [],
      ...(Object.keys(options).length > 0 ? { options } : {}),
      ...(schema ? { schema } : {}),
    };
    return { input: { ...base, microtasks: [microtask] }, decision: null, redacted: redact };
  }

  const decision = await route(deps.routing, {
    executionId: request.taskId,
    tenant: request.actor.tenant,
    // The plan is made from the redacted text, so every microtask's slice of it is redacted too.
    bidding: biddingRequestOf({ kind: "chat", messages: taskMessages(instructions, work) }, {
      kind: "task",
      ...(schema ? { schema } : {}),
      ...(request.options.maxTokens === undefined ? {} : { maxTokens: request.options.maxTokens }),
    }),
    ...(request.criteria === undefined ? {} : { criteria: request.criteria }),
  }, capable, true);
  const modelSteps = new Set(decision.plan.microtasks.filter((m) => m.executor === "model").map((m) => m.id));
  const byMicrotask = new Map(decision.record.microtasks.map((m) => [m.id, m]));
  const microtasks: Microtask[] = decision.assignments.map((assignment) => {
    const step = decision.plan.microtasks.find((m) => m.id === assignment.microtaskId)!;
    const fallbacks = fallbackModels(byMicrotask.get(step.id)?.bids ?? [], assignment.modelId);
    return {
      id: step.id,
      model: assignment.modelId,
      ...(fallbacks.length > 0 ? { fallbackModels: fallbacks } : {}),
      input: { kind: "chat", messages: taskMessages(instructions, step.input, step.schema) },
      dependsOn: step.dependsOn.filter((id) => modelSteps.has(id)),
      ...(Object.keys(options).length > 0 ? { options } : {}),
      ...(step.schema ? { schema: step.schema } : {}),
    };
  });
  const assembly = decision.plan.planner === "items" ? "list" : decision.plan.planner === "schema-parts" ? "merge" : undefined;
  return {
    input: { ...base, microtasks, learn: true, ...(assembly ? { assembly } : {}) },
    decision,
    redacted: redact,
  };
}

/** The other eligible bidders, best score first: where a microtask goes when its model fails on every host. */
function fallbackModels(bids: readonly BidRecord[], chosen: string): string[] {
  return bids.filter((bid) => bid.eligible && bid.model !== chosen).sort((a, b) => b.score - a.score).map((bid) => bid.model);
}
