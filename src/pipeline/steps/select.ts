import type { RouteDecision } from "../../bidding/index.js";
import type { CatalogModel } from "../../models/catalog.js";
import type { PolicyDecider } from "../../policy/index.js";
import { Redactor } from "../../redaction/index.js";
import type { GenerationRequest, PipelineDeps } from "../generate.js";
import { redactedView, viewTexts, type ModelView } from "../model-view.js";
import { mayRestore, type PolicyCheck, type PolicySubject } from "../policy-gate.js";
import { chooseModel } from "../routing.js";
import { prepareStructured, type PreparedStructured } from "../structured.js";
import type { Ingested } from "./ingest.js";

/** The model that takes the request, and the request as that model may be given it. */
export interface Selected {
  model: CatalogModel;
  /** The bidding decision; null when the caller named the model. */
  decision: RouteDecision | null;
  /** The request as the model may read it: with placeholders where its PII may not reach this model. */
  given: ModelView;
  /** The grammar and check the output is held to: compiled from the schema as given. */
  steering: PreparedStructured | undefined;
  /** The model is given placeholders instead of the request's PII. */
  redacted: boolean;
  /** Replaces PII in what is stored with the same placeholders the model saw. */
  redactor: Redactor;
  /** Puts the originals back into a text answer, where the policy lets this caller have them; else null. */
  restoring: Redactor | null;
}

/**
 * Bid and select: the named model, or the winner of the bidding among the models the policy allows (a
 * synchronous generation is one microtask; decomposition is for asynchronous tasks, task-plan.ts). PII the chosen
 * model may not see is replaced by placeholders in all it reads or is steered by (the grammar is compiled from the
 * redacted schema, and checks the output against it); the caller gets the originals back in a text answer where
 * the policy allows (structured values and tool calls keep the placeholders: restoring could break the schema they
 * were validated against; a free-text answer beside tools is text like any other). What is stored gets placeholders from the same redactor either way.
 */
export async function bidAndSelect(deps: PipelineDeps, request: GenerationRequest, ingested: Ingested, check: PolicyCheck | null): Promise<Selected> {
  const { model, decision, redact } = await chooseModel(deps.models, deps.routing, {
    executionId: request.executionId,
    ...(check === null ? {} : { policy: { decider: deps.policy!, subject: request.policy!, check } }),
    tenant: request.actor.tenant,
    model: request.model,
    capability: request.input.kind === "chat" ? "chat" : "completion",
    bidding: ingested.bidding,
    ...(request.criteria === undefined ? {} : { criteria: request.criteria }),
  });
  // One redactor for the request: the model's view where the policy redacts, the record always. It never issues a
  // placeholder the request already holds (a continued conversation's, read back from its record).
  const redactor = new Redactor(check === null ? {} : { detector: check.scan }).reserve(viewTexts(ingested.asSent));
  const redaction = redact && check !== null ? redactedRequest(ingested.asSent, redactor, check, deps.policy!, request.policy!, model) : null;
  const given = redaction?.view ?? ingested.asSent;
  const steering = given.structured && given.structured !== request.structured ? prepareStructured(given.structured) : ingested.structured;
  const restoring = steering && !steering.freeText ? null : (redaction?.restore ?? null);
  return { model, decision, given, steering, redacted: redaction !== null, redactor, restoring };
}

/** The request as the model may be given it; the same redactor redacts the record, so both share placeholders. */
function redactedRequest(view: ModelView, redactor: Redactor, check: PolicyCheck, decider: PolicyDecider, subject: PolicySubject, model: CatalogModel) {
  return { view: redactedView(view, redactor), restore: mayRestore(decider, subject, check, model) ? redactor : null };
}
