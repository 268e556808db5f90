import type { AdaptationRecord } from "../../adaptation/record.js";
import type { BiddingRequest } from "../../bidding/index.js";
import type { GenerationRequest, PipelineDeps } from "../generate.js";
import type { Usage } from "./infer.js";
import type { Ending } from "./record.js";
import type { Selected } from "./select.js";

/**
 * Learn: every recorded execution teaches the bidding learner (which model to choose) and the adaptation
 * integrator (which strategies and parameters to apply), chosen by bidding or named by the caller. The answer does
 * not wait for the bidding learner (a store round trip per request); readers of what was learned wait via
 * routing.pending. The adaptation learner learns in memory, at once.
 */
export function learn(
  deps: PipelineDeps,
  request: GenerationRequest,
  context: { selected: Selected; bidding: BiddingRequest; usage: Usage; ending: Ending; adaptation: AdaptationRecord | null },
): void {
  const { selected, usage, ending, adaptation } = context;
  const { model, decision } = selected;
  const routing = deps.routing;
  if (routing !== undefined) {
    const outcome = {
      executionId: request.executionId, modelId: model.id, promptTokens: usage.promptTokens, completionTokens: usage.completionTokens,
      queueMs: usage.queueMs, inferenceMs: usage.inferenceMs, errorCode: ending.errorCode, schemaValid: ending.schemaValid, attempts: usage.attempts,
    };
    routing.pending.add(request.executionId, routing.router
      .recordOutcome(outcome, decision === null ? context.bidding : undefined, { deferrable: true })
      .then(() => undefined, (error: unknown) => routing.onTrackingError(error, request.executionId)));
  }
  if (adaptation !== null && deps.adaptation !== undefined) {
    deps.adaptation.integrator.outcome({
      executionId: request.executionId,
      tenant: request.actor.tenant,
      modelId: model.id,
      record: adaptation,
      completionTokens: usage.completionTokens,
      finished: ending.finishReason === "stop",
    });
  }
}
