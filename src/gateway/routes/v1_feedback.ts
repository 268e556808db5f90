import type { Hono } from "hono";
import { z } from "zod";
import { FeedbackError, UnknownExecutionError } from "../../bidding/index.js";
import { redact, redactJson } from "../../redaction/index.js";
import { systemEvent } from "../../audit/events.js";
import { actorOf } from "../actor.js";
import type { GatewayDeps } from "../deps.js";
import { invalidRequest, notFound } from "../errors.js";
import { requireScope } from "../middleware/auth/index.js";
import { readBody } from "../validation.js";
import { adaptationRecordOf } from "../../adaptation/record.js";
import { isClassification } from "../../policy/index.js";
import type { ExecutionRecord } from "../../store/interface.js";

export const FeedbackRequest = z.strictObject({
  execution_id: z.string().min(1).max(64),
  /** 0 (useless) … 1 (exactly right). */
  score: z.number().min(0).max(1),
  comment: z.string().max(2000).optional(),
  /**
   * The right answer, where the model's was not: text, or the JSON value of a structured answer. Stored redacted;
   * the execution then teaches adaptation (exemplars, fitted adapters) with it instead of the model's answer.
   */
  correction: z.union([z.string().min(1).max(8000), z.json()]).refine((value) => value !== null, "a correction cannot be null").optional(),
});

/**
 * POST /v1/feedback — how good an execution's answer was, in the caller's judgement: stored, and the learner's
 * reward for that choice revised. Only the tenant that ran the execution may judge it. Audited as feedback.recorded.
 */
export function registerFeedback(app: Hono, deps: GatewayDeps): void {
  app.post("/v1/feedback", requireScope("infer", "tasks"), async (c) => {
    const body = await readBody(c, FeedbackRequest);
    const tenant = c.get("principal").tenant;
    const missing = () => notFound("execution_not_found", `execution ${body.execution_id} does not exist`, "execution_id");
    const execution = await deps.executions.get(tenant, body.execution_id);
    if (execution === null) throw missing();
    // Checked before anything is written: a refused correction leaves the feedback unrecorded too.
    if (body.correction !== undefined && (deps.adaptation === undefined || adaptationRecordOf(execution.parameters) === null)) {
      throw invalidRequest("correction_not_applicable", "a correction teaches inference-time adaptation, which did not run for this execution (adaptation off, an embedding, or a record from before it)", "correction");
    }
    // Feedback sent right after the answer must find the execution's outcome recorded.
    await deps.routing.pending.settled(body.execution_id);
    try {
      const result = await deps.routing.router.recordFeedback({
        executionId: body.execution_id,
        score: body.score,
        tenant,
        // Stored for operators to read: with detected PII as placeholders, like every other stored text.
        ...(body.comment === undefined ? {} : { comment: redact(body.comment).text }),
      }).catch((error: unknown) => {
        // An asynchronous task's microtask: bidding keeps its outcome under the task's decision (feedback on the
        // task's id revises that), but adaptation planned the execution itself and learns from its rating.
        if (error instanceof UnknownExecutionError && deps.adaptation !== undefined && adaptationRecordOf(execution.parameters) !== null) {
          return { executionId: execution.id, outcomes: 0, learned: 0 };
        }
        throw error;
      });
      const correction = body.correction === undefined ? undefined : typeof body.correction === "string" ? redact(body.correction).text : redactJson(body.correction).value;
      const adaptation = await adaptationFeedback(deps, execution, body.score, correction);
      // What the learner and adaptation were taught, by whom, before the answer: feedback steers later choices and
      // fits, so an auditor must be able to tell which judgements did. The comment and correction are content,
      // stored redacted with the feedback; the log says only that they were given.
      await deps.audit.append(systemEvent("feedback.recorded", {
        actor: actorOf(c),
        request: { id: c.get("requestId"), endpoint: "POST /v1/feedback", executionId: execution.id },
        outcome: { status: "succeeded" },
        detail: {
          score: body.score, outcomes: result.outcomes, learned: result.learned, commented: body.comment !== undefined,
          corrected: correction !== undefined, adaptationLearned: adaptation?.learned ?? false,
        },
      }));
      return c.json({ object: "feedback", execution_id: result.executionId, outcomes: result.outcomes, learned: result.learned, adaptation });
    } catch (error) {
      if (error instanceof UnknownExecutionError) throw missing();
      if (error instanceof FeedbackError) throw invalidRequest("feedback_invalid", error.message, "score");
      throw error;
    }
  });
}

/**
 * The judgement for adaptation: the execution becomes a rated example of its task class (an exemplar candidate
 * when the score is high enough), and the integrator learns the score for the plan it ran with. Null for an
 * execution adaptation did not plan (adaptation off, an embedding, a record from before it existed).
 */
async function adaptationFeedback(deps: GatewayDeps, execution: ExecutionRecord, score: number, correction: unknown): Promise<{ task_class: string; learned: boolean; corrected: boolean } | null> {
  const record = adaptationRecordOf(execution.parameters);
  const classification = (execution.parameters["policy"] as { classification?: unknown } | undefined)?.classification;
  if (deps.adaptation === undefined || record === null || !isClassification(classification)) return null;
  const maxTokens = execution.parameters["maxTokens"];
  const { learned } = await deps.adaptation.integrator.feedback({
    executionId: execution.id,
    tenant: execution.actor.tenant,
    modelId: execution.modelId,
    record,
    completionTokens: execution.completionTokens,
    finished: typeof maxTokens === "number" && execution.completionTokens < maxTokens,
  }, classification, score, correction);
  // Not awaited: reading the class's ratings and starting a fit is no part of the answer.
  void deps.adaptation.admin.autoFit?.rated({ tenant: execution.actor.tenant, taskClass: record.taskClass, baseModel: execution.modelId, classification });
  return { task_class: record.taskClass, learned, corrected: correction !== undefined };
}
