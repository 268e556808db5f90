import type { Principal } from "../identity/principal.js";
import type { Classification } from "./classification.js";

/** What a caller asks to do with a model. `restore`: put the originals of redacted PII back into a model's answer. */
export const POLICY_ACTIONS = ["infer", "embed", "export", "admin", "restore"] as const;
export type PolicyAction = (typeof POLICY_ACTIONS)[number];

/** The parts of an authenticated Principal that policies may look at; an identity Principal fits as it is. */
export type PolicyPrincipal = Pick<Principal, "tenant" | "subject" | "scopes"> | {
  tenant: string;
  subject: string;
  scopes: Iterable<string>;
};

/**
 * A model as the gateway's catalog knows it. Its policy attributes (clearance, tenants, PII) come from the policy
 * data file (policies/entities.json), never from the caller, so a catalog entry cannot raise its own clearance.
 */
export interface ModelRef {
  id: string;
  /** The pinned SHA-256 of the file the gateway would load. */
  sha256: string;
}

export interface RequestContext {
  /** The request's data classification: the caller's header/field raised to the tenant's floor, else the tenant's default. */
  classification: Classification;
  /** Kinds of PII detected in the input (src/redaction kinds); empty or absent → none. */
  piiKinds?: readonly string[];
  /** Overrides piiKinds.length > 0, for callers that only know whether PII was found. */
  piiFound?: boolean;
  /** Free text the caller declares (e.g. "support", "analytics"); "" when none. */
  purpose?: string;
}

export interface PolicyRequest {
  principal: PolicyPrincipal;
  action: PolicyAction;
  resource: ModelRef;
  context: RequestContext;
}

export interface PolicyDecision {
  decision: "allow" | "deny";
  /** Ids of the policies that decided: the permits that allowed, or the forbids that denied (empty: no permit matched). */
  reasons: readonly string[];
  /** Policies that failed to evaluate. Any error denies (fail closed), even where Cedar alone would have allowed. */
  errors: readonly string[];
  /** Which policy set decided: goes into decision and execution records. */
  policySetHash: string;
}

/**
 * How PII found in a request is to be handled before inference: sent as it is, replaced by placeholders, or the
 * request refused. Decided by asking the policy twice: with the PII (send) and as it would be after redaction.
 */
export interface PiiPlan {
  handling: "send" | "redact" | "deny";
  /** The decision the plan rests on (with PII for send/deny by PII, after redaction for redact). */
  decision: PolicyDecision;
}

/** A policy engine as the gateway uses it; CedarPolicyEngine is the one built. */
export interface PolicyDecider {
  readonly policySetHash: string;
  decide(request: PolicyRequest): PolicyDecision;
  /** The models of `models` the policy lets this principal use for this action and context, in their order. */
  allowedModels<M extends ModelRef>(principal: PolicyPrincipal, action: PolicyAction, context: RequestContext, models: readonly M[]): M[];
  planPii(request: PolicyRequest): PiiPlan;
  /** The classification a tenant's requests carry when the caller names none. */
  tenantDefaultClassification(tenant: string): Classification;
  /** The classification a request is handled at: the caller's (`declared`) raised to the tenant's floor, else the tenant's default. */
  requestClassification(tenant: string, declared: Classification | undefined): Classification;
}
