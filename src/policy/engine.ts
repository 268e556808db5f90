import { classificationLevel, isClassification, type Classification } from "./classification.js";
import { cedar, type EntityJson } from "./cedar.js";
import { requestClassification, tenantClassification } from "./data.js";
import { ENTITY_TYPES, modelEntity, modelUid, userEntity, userUid } from "./entities.js";
import { POLICY_ACTIONS, type ModelRef, type PiiPlan, type PolicyAction, type PolicyDecider, type PolicyDecision, type PolicyPrincipal, type PolicyRequest, type RequestContext } from "./interface.js";
import type { LoadedPolicySet } from "./load.js";

export interface PolicyEngineOptions {
  /**
   * Decisions remembered per policy set (0: none). A decision depends only on the set and the request, which
   * takes few distinct values in practice (tenants × users × models × levels × PII kinds), so repeated requests
   * skip Cedar; the oldest entries go first when it is full.
   */
  decisionCacheSize?: number;
}

const DEFAULT_DECISION_CACHE = 65_536;
const ENTITY_CACHE = 4096;

/**
 * Decisions by Cedar over one loaded policy set. The set's policies were parsed once at load (Cedar keeps them
 * under set.cedarId); each decision only passes the request's two entities and its context. Deny by default and
 * forbid over permit are Cedar's; on top, any evaluation error denies (fail closed), since Cedar alone would skip
 * an erroring forbid.
 */
export class CedarPolicyEngine implements PolicyDecider {
  private readonly decisions = new Map<string, PolicyDecision>();
  private readonly users = new Map<string, EntityJson>();
  private readonly models = new Map<string, EntityJson>();
  private readonly decisionCacheSize: number;

  constructor(readonly set: LoadedPolicySet, options: PolicyEngineOptions = {}) {
    this.decisionCacheSize = options.decisionCacheSize ?? DEFAULT_DECISION_CACHE;
  }

  get policySetHash(): string {
    return this.set.hash;
  }

  tenantDefaultClassification(tenant: string): Classification {
    return tenantClassification(this.set.data, tenant);
  }

  requestClassification(tenant: string, declared: Classification | undefined): Classification {
    return requestClassification(this.set.data, tenant, declared);
  }

  decide(request: PolicyRequest): PolicyDecision {
    const invalid = invalidRequest(request);
    if (invalid) return this.denied([invalid]);
    const principalKey = principalCacheKey(request.principal, this.set.subjectMatters);
    const context = cedarContext(request.context);
    if (this.decisionCacheSize === 0) return this.evaluate(request, context);
    const key = JSON.stringify([request.action, principalKey, request.resource.id, request.resource.sha256, context.classification, context.piiFound, context.piiKinds, context.purpose]);
    const cached = this.decisions.get(key);
    if (cached) return cached;
    const decision = this.evaluate(request, context);
    remember(this.decisions, key, decision, this.decisionCacheSize);
    return decision;
  }

  allowedModels<M extends ModelRef>(principal: PolicyPrincipal, action: PolicyAction, context: RequestContext, models: readonly M[]): M[] {
    return models.filter((resource) => this.decide({ principal, action, resource, context }).decision === "allow");
  }

  planPii(request: PolicyRequest): PiiPlan {
    const raw = this.decide(request);
    if (raw.decision === "allow") return { handling: "send", decision: raw };
    if (!hasPii(request.context)) return { handling: "deny", decision: raw };
    const redacted = this.decide({ ...request, context: { ...request.context, piiKinds: [], piiFound: false } });
    return redacted.decision === "allow" ? { handling: "redact", decision: redacted } : { handling: "deny", decision: raw };
  }

  private evaluate(request: PolicyRequest, context: CedarContext): PolicyDecision {
    const answer = cedar.statefulIsAuthorized({
      principal: userUid(request.principal),
      action: { type: ENTITY_TYPES.action, id: request.action },
      resource: modelUid(request.resource),
      context: { ...context, piiKinds: [...context.piiKinds] },
      preparsedPolicySetId: this.set.cedarId,
      entities: [this.userEntity(request.principal), this.modelEntity(request.resource)],
    });
    if (answer.type === "failure") return this.denied(answer.errors.map((e) => e.message));
    const { decision, diagnostics } = answer.response;
    const errors = diagnostics.errors.map((e) => `${e.policyId}: ${e.error.message}`);
    if (errors.length > 0) return this.denied(errors);
    return Object.freeze({ decision, reasons: Object.freeze([...diagnostics.reason].sort()), errors: NO_ERRORS, policySetHash: this.set.hash });
  }

  private denied(errors: string[]): PolicyDecision {
    return Object.freeze({ decision: "deny", reasons: NO_ERRORS, errors: Object.freeze(errors), policySetHash: this.set.hash });
  }

  private userEntity(principal: PolicyPrincipal): EntityJson {
    const key = principalCacheKey(principal, true);
    let entity = this.users.get(key);
    if (!entity) remember(this.users, key, (entity = userEntity(principal)), ENTITY_CACHE);
    return entity;
  }

  private modelEntity(model: ModelRef): EntityJson {
    const key = `${model.id}\n${model.sha256}`;
    let entity = this.models.get(key);
    if (!entity) remember(this.models, key, (entity = modelEntity(this.set.data, model)), ENTITY_CACHE);
    return entity;
  }
}

const NO_ERRORS: readonly string[] = Object.freeze([]);

interface CedarContext {
  classification: number;
  piiFound: boolean;
  piiKinds: readonly string[];
  purpose: string;
}

function cedarContext(context: RequestContext): CedarContext {
  const piiKinds = [...new Set(context.piiKinds ?? [])].sort();
  return {
    classification: classificationLevel(context.classification),
    piiFound: context.piiFound ?? piiKinds.length > 0,
    piiKinds,
    purpose: context.purpose ?? "",
  };
}

function hasPii(context: RequestContext): boolean {
  return context.piiFound ?? (context.piiKinds?.length ?? 0) > 0;
}

/** Requests TypeScript cannot vouch for (from JSON, from tests) are denied rather than evaluated on a guess. */
function invalidRequest(request: PolicyRequest): string | undefined {
  if (!(POLICY_ACTIONS as readonly string[]).includes(request.action)) return `unknown action ${JSON.stringify(request.action)}`;
  if (!isClassification(request.context?.classification)) return `unknown classification ${JSON.stringify(request.context?.classification)}`;
  if (typeof request.resource?.id !== "string" || typeof request.resource.sha256 !== "string") return "resource needs a model id and sha256";
  if (typeof request.principal?.tenant !== "string" || typeof request.principal.subject !== "string") return "principal needs a tenant and a subject";
  return undefined;
}

/** Who the decision depends on: the subject only where some policy names a user (LoadedPolicySet.subjectMatters). */
function principalCacheKey(principal: PolicyPrincipal, subjectMatters: boolean): string {
  return JSON.stringify([principal.tenant, subjectMatters ? principal.subject : "", [...principal.scopes].sort()]);
}

function remember<V>(cache: Map<string, V>, key: string, value: V, limit: number): void {
  if (cache.size >= limit) cache.delete(cache.keys().next().value!);
  cache.set(key, value);
}
