import type { Context } from "hono";
import type { PolicySubject } from "../pipeline/policy-gate.js";

/** The caller, its data classification and declared purpose, as the policy sees them. */
export function policySubjectOf(c: Context): PolicySubject {
  return { principal: c.get("principal"), classification: c.get("classification"), purpose: c.get("purpose") };
}
