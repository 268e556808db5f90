import type { Classification } from "./classification.js";
import { CedarPolicyEngine, type PolicyEngineOptions } from "./engine.js";
import type { ModelRef, PiiPlan, PolicyAction, PolicyDecider, PolicyDecision, PolicyPrincipal, PolicyRequest, RequestContext } from "./interface.js";
import { loadPolicySet, PolicyLoadError, type LoadedPolicySet } from "./load.js";

export type ReloadResult =
  | { ok: true; changed: boolean; policySetHash: string; previousHash: string; warnings: readonly string[] }
  | { ok: false; error: PolicyLoadError; policySetHash: string };

/**
 * The active policy set of a running gateway. A reload builds the new set completely (parse, validate, data,
 * Cedar's cache) before one assignment makes it active, so a refused set leaves the old one deciding, and no
 * decision ever sees half of each.
 */
export class PolicyStore implements PolicyDecider {
  private engine: CedarPolicyEngine;

  private constructor(readonly dir: string, set: LoadedPolicySet, private readonly options: PolicyEngineOptions) {
    this.engine = new CedarPolicyEngine(set, options);
  }

  /** Throws PolicyLoadError: a gateway must not start without a valid policy set. */
  static open(dir: string, options: PolicyEngineOptions = {}): PolicyStore {
    return new PolicyStore(dir, loadPolicySet(dir), options);
  }

  reload(): ReloadResult {
    const previousHash = this.engine.policySetHash;
    let set: LoadedPolicySet;
    try {
      set = loadPolicySet(this.dir);
    } catch (error) {
      if (!(error instanceof PolicyLoadError)) throw error;
      return { ok: false, error, policySetHash: previousHash };
    }
    // An unchanged set keeps its engine, and with it the decisions already cached.
    if (set.hash !== previousHash) this.engine = new CedarPolicyEngine(set, this.options);
    return { ok: true, changed: set.hash !== previousHash, policySetHash: set.hash, previousHash, warnings: set.warnings };
  }

  /** The engine deciding now; hold it to make several decisions under one set. */
  get current(): CedarPolicyEngine {
    return this.engine;
  }

  get policySetHash(): string {
    return this.engine.policySetHash;
  }

  decide(request: PolicyRequest): PolicyDecision {
    return this.engine.decide(request);
  }

  allowedModels<M extends ModelRef>(principal: PolicyPrincipal, action: PolicyAction, context: RequestContext, models: readonly M[]): M[] {
    return this.engine.allowedModels(principal, action, context, models);
  }

  planPii(request: PolicyRequest): PiiPlan {
    return this.engine.planPii(request);
  }

  tenantDefaultClassification(tenant: string): Classification {
    return this.engine.tenantDefaultClassification(tenant);
  }

  requestClassification(tenant: string, declared: Classification | undefined): Classification {
    return this.engine.requestClassification(tenant, declared);
  }
}
