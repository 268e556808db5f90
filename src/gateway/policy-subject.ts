import type { Context } from "hono";
import type { PolicySubject } from "../pipeline/policy-gate.js";

/** The caller and its data classification, as the policy sees them. */
export function policySubjectOf(c: Context): PolicySubject {
  return { principal: c.get("principal"), classification: c.get("classification") };
}
