import { ApiError } from "../gateway/errors.js";
import type { PolicyAction, PolicyDecider, PolicyPrincipal, RequestContext } from "../policy/index.js";
import type { Classification } from "../policy/index.js";
import { RequestPiiScan } from "../redaction/index.js";

/** Who asks, how sensitive the data is and what it is for: what a model choice must be allowed for. */
export interface PolicySubject {
  principal: PolicyPrincipal;
  classification: Classification;
  /** What the caller declares the data is for (x-atomic-purpose); "" or absent when it declares nothing. */
  purpose?: string;
}

/** What the execution record and its audit event keep of the decision that let the request through. */
export interface PolicyRecord {
  hash: string;
  decision: "allow";
  classification: Classification;
  piiKinds: string[];
  /** The purpose the caller declared ("" when none): part of what the policy decided on. */
  purpose: string;
  /**
   * The model saw placeholders instead of the PII. Stored records and audit events hold placeholders either way:
   * this says only what reached the model.
   */
  redacted: boolean;
}

export interface PolicyCheck {
  context: RequestContext;
  record: PolicyRecord;
  /** The scan that found the PII: redactors of this request reuse it instead of scanning the same texts again. */
  scan: RequestPiiScan;
}

/**
 * The request's policy context: its classification, its declared purpose and the kinds of PII found in what it
 * sends (detected here, before anything reaches a model). Whether it is sent, replaced by placeholders or refused is the policy's call
 * (allowedHandling).
 */
export function policyCheck(decider: PolicyDecider, subject: PolicySubject, texts: readonly string[]): PolicyCheck {
  const scan = new RequestPiiScan();
  const piiKinds = [...new Set(texts.flatMap((text) => scan.detect(text).map((finding) => finding.kind)))].sort();
  const purpose = subject.purpose ?? "";
  const context: RequestContext = { classification: subject.classification, piiKinds, piiFound: piiKinds.length > 0, purpose };
  return { context, scan, record: { hash: decider.policySetHash, decision: "allow", classification: subject.classification, piiKinds, purpose, redacted: false } };
}

/**
 * How the policy lets this model take the request: as sent, or only with its PII replaced by placeholders;
 * refused (403) otherwise.
 */
export function allowedHandling(decider: PolicyDecider, subject: PolicySubject, check: PolicyCheck, action: PolicyAction, model: { id: string; sha256: string }): "send" | "redact" {
  const plan = decider.planPii({ principal: subject.principal, action, resource: { id: model.id, sha256: model.sha256 }, context: check.context });
  if (plan.handling === "deny") throw policyDenied(`model ${model.id} may not receive this request`, check, plan.decision.reasons);
  return plan.handling;
}

/** Whether redacted PII may be put back into the answer this caller gets. */
export function mayRestore(decider: PolicyDecider, subject: PolicySubject, check: PolicyCheck, model: { id: string; sha256: string }): boolean {
  return decider.decide({ principal: subject.principal, action: "restore", resource: { id: model.id, sha256: model.sha256 }, context: check.context }).decision === "allow";
}

export function policyDenied(what: string, check: PolicyCheck, reasons: readonly string[]): ApiError {
  const pii = check.record.piiKinds.length > 0 ? ` with PII (${check.record.piiKinds.join(", ")})` : "";
  const purpose = check.record.purpose === "" ? "" : ` for purpose ${check.record.purpose}`;
  return new ApiError(403, "permission_error", "policy_denied",
    `${what}: data classified ${check.record.classification}${pii}${purpose} (policy set ${check.record.hash.slice(0, 12)}${reasons.length > 0 ? `, ${reasons.join(", ")}` : ""})`,
    "model", {}, { policySetHash: check.record.hash, reasons });
}
