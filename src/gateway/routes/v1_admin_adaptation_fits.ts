import type { Hono } from "hono";
import { z } from "zod";
import type { FitJob } from "../../adaptation/adapters/fit-jobs.js";
import { FitError } from "../../adaptation/adapters/fit/fit-adapter.js";
import type { AdaptationAdmin } from "../../adaptation/index.js";
import { CLASSIFICATIONS } from "../../policy/classification.js";
import { actorOf } from "../actor.js";
import type { GatewayDeps } from "../deps.js";
import { ApiError, invalidRequest, notFound, unknownToTenant } from "../errors.js";
import { requireScope } from "../middleware/auth/index.js";
import { parseParams, readBody } from "../validation.js";

export const FitRequest = z.strictObject({
  model: z.string().min(1).max(64),
  task_class: z.string().min(1).max(256),
  /** The labels to fit; absent: those the rated examples carry. */
  labels: z.array(z.string().min(1).max(64)).min(2).max(64).optional(),
  /** For structured answers: the field of the answer's JSON object that holds the label. */
  label_field: z.string().min(1).max(64).optional(),
  /** Examples classified above this level are left out; the adapter serves requests at or above what it used. */
  max_classification: z.enum(CLASSIFICATIONS).default("secret"),
  max_examples: z.number().int().min(6).max(5000).default(1000),
});
export const JobParams = z.strictObject({ id: z.uuid() });

/**
 * Fitting an adapter from the caller's tenant's rated executions of a task class (issue 15, "Fitting at inference
 * time"): POST starts the fit and answers 202 with its id; GET reads its status. The fit runs off the request path,
 * the candidate is pinned as the next version of the tenant's adapter for the class and promoted only when it beats
 * the current one on a held-back slice of the examples; `adapter.fitted` and `adapter.promoted` are audited.
 * Roll back with `atomic models adapter rollback --base MODEL --task CLASS --tenant T`.
 */
export function registerAdminAdaptationFits(app: Hono, deps: GatewayDeps): void {
  const admin = (): AdaptationAdmin => {
    if (deps.adaptation === undefined) throw new ApiError(404, "not_found_error", "adaptation_disabled", "adaptation is off on this gateway (adaptation.enabled: false)", null);
    return deps.adaptation.admin;
  };

  app.post("/v1/admin/adaptation/fits", requireScope("admin"), async (c) => {
    const body = await readBody(c, FitRequest);
    const { fits } = admin();
    const model = deps.models.get(body.model);
    if (model === undefined || !model.capabilities.some((cap) => cap === "chat" || cap === "completion")) {
      throw notFound("model_not_found", `no chat or completion model ${body.model} is served here`, "model");
    }
    let job: FitJob;
    try {
      job = await fits.start({
        tenant: c.get("principal").tenant,
        baseModel: model.id,
        taskClass: body.task_class,
        ...(body.labels === undefined ? {} : { labels: body.labels }),
        ...(body.label_field === undefined ? {} : { labelField: body.label_field }),
        maxClassification: body.max_classification,
        maxExamples: body.max_examples,
        actor: actorOf(c),
      });
    } catch (error) {
      if (error instanceof FitError) throw invalidRequest(error.code, error.message, null);
      throw error;
    }
    return c.json(jobView(job), 202);
  });

  app.get("/v1/admin/adaptation/fits/:id", requireScope("admin"), (c) => {
    const { id } = parseParams(JobParams, c.req.param());
    const job = admin().fits.get(c.get("principal").tenant, id);
    if (job === null) throw unknownToTenant("fit_not_found", `fit ${id} does not exist (or was forgotten after a restart; its audit events remain)`, "id");
    return c.json(jobView(job));
  });
}

function jobView(job: FitJob) {
  const { state } = job;
  return {
    object: "adaptation.fit",
    id: job.id,
    model: job.baseModel,
    task_class: job.taskClass,
    created_at: job.createdAt,
    examples: job.examples,
    status: state.status,
    ...(state.status === "failed" ? { error: { code: state.code, message: state.message } } : {}),
    ...(state.status === "succeeded"
      ? {
        adapter: { id: state.outcome.adapter.id, sha256: state.outcome.adapter.sha256, version: state.outcome.adapter.version, classification: state.outcome.adapter.classification ?? null },
        promoted: state.outcome.promoted,
        decision: state.outcome.decision,
        accuracy: state.outcome.result.accuracy,
        counts: { ...state.outcome.result.counts, skipped: state.skipped },
        timings_ms: { forward_passes: Math.round(state.outcome.result.timings.featuresMs), fit: Math.round(state.outcome.result.timings.fitMs) },
      }
      : {}),
  };
}
