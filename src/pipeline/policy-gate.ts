import { ApiError } from "../gateway/errors.js";
import type { PolicyAction, PolicyDecider, PolicyPrincipal, RequestContext } from "../policy/index.js";
import type { Classification } from "../policy/index.js";
import { detectPii } from "../redaction/index.js";

/** Who asks and how sensitive the data is: what a model choice must be allowed for. */
export interface PolicySubject {
  principal: PolicyPrincipal;
  classification: Classification;
}

/** What the execution record and its audit event keep of the decision that let the request through. */
export interface PolicyRecord {
  hash: string;
  decision: "allow";
  classification: Classification;
  piiKinds: string[];
}

export interface PolicyCheck {
  context: RequestContext;
  record: PolicyRecord;
}

/**
 * The request's policy context: its classification and the kinds of PII found in what it sends (detected here,
 * before anything reaches a model). Redacting it instead of refusing is decided by policy in the redaction
 * library but not wired yet, so a model that may not see the PII refuses the request.
 */
export function policyCheck(decider: PolicyDecider, subject: PolicySubject, texts: readonly string[]): PolicyCheck {
  const piiKinds = [...new Set(texts.flatMap((text) => detectPii(text).map((finding) => finding.kind)))].sort();
  const context: RequestContext = { classification: subject.classification, piiKinds, piiFound: piiKinds.length > 0 };
  return { context, record: { hash: decider.policySetHash, decision: "allow", classification: subject.classification, piiKinds } };
}

/** Refuses unless the policy lets this principal use this model for this action in this context. */
export function requireAllowed(decider: PolicyDecider, subject: PolicySubject, check: PolicyCheck, action: PolicyAction, model: { id: string; sha256: string }): void {
  const decision = decider.decide({ principal: subject.principal, action, resource: { id: model.id, sha256: model.sha256 }, context: check.context });
  if (decision.decision !== "allow") throw policyDenied(`model ${model.id} may not receive this request`, check, decision.reasons);
}

export function policyDenied(what: string, check: PolicyCheck, reasons: readonly string[]): ApiError {
  const pii = check.record.piiKinds.length > 0 ? ` with PII (${check.record.piiKinds.join(", ")})` : "";
  return new ApiError(403, "permission_error", "policy_denied",
    `${what}: data classified ${check.record.classification}${pii} (policy set ${check.record.hash.slice(0, 12)}${reasons.length > 0 ? `, ${reasons.join(", ")}` : ""})`,
    "model", {}, { policySetHash: check.record.hash, reasons });
}
