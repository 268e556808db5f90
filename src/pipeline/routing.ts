import type { BiddingRequest, BiddingRouter, ContentFeaturizer, CriteriaInput, RouteDecision } from "../bidding/index.js";
import { candidateFrom, CriteriaError, EmbeddingFeaturizer, HashedNgramFeaturizer, NoContentFeaturizer, NoEligibleModelError } from "../bidding/index.js";
import type { InferenceEngine } from "../inference/interface.js";
import type { Logger } from "../observability/logger.js";
import type { Metrics } from "../observability/metrics/interface.js";
import { redact } from "../redaction/index.js";
import { ApiError, notFound } from "../gateway/errors.js";
import type { GenerationInput } from "../inference/interface.js";
import type { CatalogModel } from "../models/catalog.js";
import type { Capability } from "../models/manifest.js";
import type { PolicyDecider, RequestContext } from "../policy/index.js";
import type { ModelDirectory } from "./model-directory.js";
import { allowedHandling, policyDenied, type PolicyCheck, type PolicySubject } from "./policy-gate.js";

/** The model id that asks the gateway to choose by bidding. */
export const AUTO_MODEL = "auto";

/**
 * Outcomes being recorded, by execution: the answer does not wait for the learner (a store round trip and the
 * model update), but whoever reads what was learned about an execution — its feedback, an operator's view, the
 * shutdown save — waits for that execution's outcome first.
 */
export class PendingOutcomes {
  private readonly pending = new Map<string, Promise<void>>();

  add(executionId: string, work: Promise<void>): void {
    const done = work.finally(() => {
      if (this.pending.get(executionId) === done) this.pending.delete(executionId);
    });
    this.pending.set(executionId, done);
  }

  async settled(executionId: string): Promise<void> {
    await this.pending.get(executionId);
  }

  async all(): Promise<void> {
    await Promise.all(this.pending.values());
  }
}

export interface Routing {
  router: BiddingRouter;
  pending: PendingOutcomes;
  /** What a request that names no model gets: bidding ("auto") or the configured default model. */
  omittedModel: "auto" | "default";
  /** The tenant's criteria (config), between the request's and the global ones. */
  tenantCriteria(tenant: string): CriteriaInput | undefined;
  /** Told when tracking an outcome failed: the answer stands, the learner misses one sample. */
  onTrackingError(error: unknown, executionId: string): void;
  /**
   * For the embedding featurizer: the embedding of a request's text, computed before bidding (deciding is
   * synchronous); null when it could not be had, and the request is then routed on its shape alone.
   */
  embed?: (text: string) => Promise<number[] | null>;
  /** Counts each microtask's winner and whether it was exploration; absent: not counted. */
  metrics?: Pick<Metrics, "biddingDecision">;
}

/**
 * The content featurizer `bidding.features` asks for. "embedding" needs a model with the embedding capability:
 * the first one the catalog lists, probed once for its dimension; without one (or when the probe fails) it is
 * hashed n-grams, with the reason logged. The embedding of a request is of its text with PII replaced by
 * placeholders: the embedding model reads it whatever the policy clears it for, and a placeholder says enough
 * about the request to route it.
 */
export async function contentFeaturizer(
  wanted: "none" | "hashed" | "embedding",
  models: ReadonlyArray<{ id: string; capabilities: readonly string[] }>,
  engine: Pick<InferenceEngine, "embed">,
  logger: Logger,
): Promise<{ featurizer: ContentFeaturizer; embed?: (text: string) => Promise<number[] | null> }> {
  if (wanted === "none") return { featurizer: new NoContentFeaturizer() };
  if (wanted === "hashed") return { featurizer: new HashedNgramFeaturizer() };
  const model = models.find((m) => m.capabilities.includes("embedding"));
  if (model === undefined) {
    logger.warn("bidding.features is embedding, but no model with the embedding capability is pinned: reading hashed n-grams instead");
    return { featurizer: new HashedNgramFeaturizer() };
  }
  const embed = async (text: string): Promise<number[] | null> => {
    try {
      return (await engine.embed(model.id, [routingEmbeddingText(text)])).vectors[0] ?? null;
    } catch (error) {
      logger.debug({ err: error, model: model.id }, "bidding: embedding a request failed; routing it on its shape");
      return null;
    }
  };
  const probe = await embed("dimension probe");
  if (probe === null || probe.length === 0) {
    logger.warn({ model: model.id }, "bidding.features is embedding, but the embedding model did not answer: reading hashed n-grams instead");
    return { featurizer: new HashedNgramFeaturizer() };
  }
  return { featurizer: new EmbeddingFeaturizer(model.id, probe.length), embed };
}

/** What of a request's text the embedding featurizer embeds: its head, PII replaced by placeholders. */
export function routingEmbeddingText(text: string): string {
  return redact(text.slice(0, 2048)).text;
}

export interface RoutingInput {
  executionId: string;
  /** The policy gate: only models it allows are bid for or used. Absent where no policy applies (workers). */
  policy?: { decider: PolicyDecider; subject: PolicySubject; check: PolicyCheck };
  tenant: string;
  model: string | undefined;
  capability: Capability;
  bidding: BiddingRequest;
  criteria?: CriteriaInput;
}

export interface ChosenModel {
  model: CatalogModel;
  /** The bidding decision, or null when the caller named the model (tracked, not bid for). */
  decision: RouteDecision | null;
  /** The policy allows this model only once the request's PII is replaced by placeholders. */
  redact: boolean;
}

/**
 * Picks the model for one request: the one it names, or — for "auto", or no model when so configured — the
 * winner of the bidding among the capable models. The request stays one microtask here: decomposed plans run as
 * asynchronous tasks on the orchestration layer (see task-plan.ts).
 */
export async function chooseModel(models: ModelDirectory, routing: Routing | undefined, input: RoutingInput): Promise<ChosenModel> {
  const wantsBidding = input.model === AUTO_MODEL || (input.model === undefined && routing?.omittedModel === "auto");
  const policy = input.policy;
  if (!wantsBidding) {
    const model = models.resolve(input.model, input.capability);
    const redact = policy ? allowedHandling(policy.decider, policy.subject, policy.check, "infer", model) === "redact" : false;
    return { model, decision: null, redact };
  }
  if (routing === undefined) throw new ApiError(400, "invalid_request_error", "model_required", "this endpoint runs a model already chosen: name it", "model");
  const { capable, redact } = biddableModels(models, input.capability, policy, "as_needed");
  const decision = await route(routing, input, capable, false);
  const model = models.get(decision.modelId);
  // Unpinned while the request was bid for: as a request naming it after that would be answered.
  if (model === undefined) throw notFound("model_not_found", `model ${decision.modelId} does not exist`, "model");
  return { model, decision, redact };
}

/**
 * The models bidding may consider for a request: those offering the capability that the policy allows for this
 * caller and this data — as sent if any may receive it so ("as_needed"), else with its PII replaced by placeholders
 * (redact: true). "always" is for requests whose PII is replaced whatever the models may receive.
 */
export function biddableModels(models: ModelDirectory, capability: Capability, policy: RoutingInput["policy"], redaction: "as_needed" | "always") {
  let capable = models.list().filter(({ model }) => model.capabilities.includes(capability));
  if (capable.length === 0) throw new ApiError(404, "not_found_error", "model_not_found", `no model offers ${capability}`, "model");
  let redact = redaction === "always" && policy?.check.context.piiFound === true;
  if (policy) {
    const allowedFor = (context: RequestContext) =>
      new Set(policy.decider.allowedModels(policy.subject.principal, "infer", context, capable.map(({ model }) => model)).map((m) => m.id));
    const piiFree = { ...policy.check.context, piiKinds: [], piiFound: false };
    let allowed = allowedFor(redact ? piiFree : policy.check.context);
    if (allowed.size === 0 && policy.check.context.piiFound && !redact) {
      allowed = allowedFor(piiFree);
      redact = allowed.size > 0;
    }
    capable = capable.filter(({ model }) => allowed.has(model.id));
    if (capable.length === 0) throw policyDenied("no model may receive this request", policy.check, []);
  }
  return { capable, redact };
}

/** Plans (when `decompose`), bids and selects among `capable`; refusals as API errors. */
export async function route(
  routing: Routing,
  input: Pick<RoutingInput, "executionId" | "bidding" | "criteria" | "tenant">,
  capable: ReturnType<ModelDirectory["list"]>,
  decompose: boolean,
): Promise<RouteDecision> {
  let request = input.bidding;
  if (routing.embed !== undefined && routing.router.featurizer.needsEmbedding) {
    const embedding = await routing.embed(request.text);
    if (embedding !== null) request = { ...request, embedding };
  }
  try {
    const decision = await routing.router.route({
      executionId: input.executionId,
      request,
      candidates: capable.map(({ model, status }) => candidateFrom(model, status)),
      ...(input.criteria === undefined ? {} : { criteria: input.criteria }),
      ...tenantCriteria(routing, input.tenant),
      decompose,
    });
    for (const assignment of decision.assignments) routing.metrics?.biddingDecision(assignment.modelId, assignment.mode);
    return decision;
  } catch (error) {
    if (error instanceof NoEligibleModelError) {
      throw new ApiError(422, "invalid_request_error", "no_eligible_model", error.message, "criteria", {}, { exclusions: error.exclusions });
    }
    if (error instanceof CriteriaError) throw new ApiError(400, "invalid_request_error", "criteria_invalid", error.message, "criteria");
    throw error;
  }
}

function tenantCriteria(routing: Routing, tenant: string): { tenantCriteria?: CriteriaInput } {
  const criteria = routing.tenantCriteria(tenant);
  return criteria === undefined ? {} : { tenantCriteria: criteria };
}

/** What bidding reads from a generation input: the work itself, the instructions around it, and its history. */
export function biddingRequestOf(input: GenerationInput, extra: Pick<BiddingRequest, "schema" | "jsonObject" | "maxTokens"> & { kind?: BiddingRequest["kind"] }): BiddingRequest {
  const shape = (): Omit<BiddingRequest, "schema" | "jsonObject" | "maxTokens"> => {
    if (input.kind === "completion") return { kind: "completion", text: input.prompt };
    const system = input.messages.filter((m) => m.role === "system").map((m) => m.content).join("\n");
    const rest = input.messages.filter((m) => m.role !== "system");
    const last = rest.at(-1);
    const history = rest.slice(0, -1).reduce((chars, m) => chars + m.content.length, 0);
    return {
      kind: extra.kind ?? "chat",
      text: last?.content ?? "",
      ...(system ? { instructions: system } : {}),
      ...(history > 0 ? { historyChars: history } : {}),
      turns: rest.length,
    };
  };
  return {
    ...shape(),
    ...(extra.schema === undefined ? {} : { schema: extra.schema }),
    ...(extra.jsonObject ? { jsonObject: true } : {}),
    ...(extra.maxTokens === undefined ? {} : { maxTokens: extra.maxTokens }),
  };
}

/** A compact account of the choice for the audit event: who bid, who won, and whether it was exploration. */
export function routingSummary(decision: RouteDecision): Record<string, unknown> {
  const microtask = decision.record.microtasks[0];
  return {
    policy: decision.record.policy.name,
    mode: decision.assignments[0]?.mode ?? null,
    chosen: decision.modelId,
    bids: microtask?.bids.map((bid) => ({ model: bid.model, eligible: bid.eligible, score: bid.score })) ?? [],
  };
}
