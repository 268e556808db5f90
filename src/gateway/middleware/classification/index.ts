import type { MiddlewareHandler } from "hono";
import { CLASSIFICATIONS, isClassification, type Classification, type PolicyDecider } from "../../../policy/index.js";
import { invalidRequest } from "../../errors.js";
import { identifierReadsAsPii } from "../../../redaction/identifier.js";

declare module "hono" {
  interface ContextVariableMap {
    classification: Classification;
    /** What the caller declares the data is for; "" when it declares nothing. */
    purpose: string;
  }
}

export const CLASSIFICATION_HEADER = "x-atomic-data-classification";
export const PURPOSE_HEADER = "x-atomic-purpose";

/**
 * A purpose is a short token that policies compare with ==, so it is one word-like name, not prose: a letter, then
 * letters, digits, ".", "_" or "-".
 */
const PURPOSE = /^[a-z][a-z0-9._-]{0,63}$/i;

/**
 * The request's policy context from its headers: how sensitive its data is (the caller's level, else the tenant's
 * default, never below the tenant's floor — both from the policy data) and what it is for (the caller's declared
 * purpose, else ""). Under `authenticate` (the tenant must be known). An unknown level or a malformed purpose is
 * refused, never guessed.
 */
export function dataClassification(policy: Pick<PolicyDecider, "requestClassification">): MiddlewareHandler {
  return async function dataClassificationHandler(c, next) {
    const given = c.req.header(CLASSIFICATION_HEADER);
    if (given !== undefined && !isClassification(given)) {
      throw invalidRequest("classification_invalid", `${CLASSIFICATION_HEADER} must be one of ${CLASSIFICATIONS.join(", ")}`, CLASSIFICATION_HEADER);
    }
    c.set("classification", policy.requestClassification(c.get("principal").tenant, given));
    c.set("purpose", purposeOf(c.req.header(PURPOSE_HEADER)));
    await next();
  };
}

function purposeOf(header: string | undefined): string {
  const value = header?.trim() ?? "";
  if (value === "") return "";
  // Matched case-insensitively and kept lower-case, so that "Training" cannot slip past a rule written for
  // "training". It goes into execution rows and audit events as it is: a token that reads as PII would be stored raw.
  if (!PURPOSE.test(value) || identifierReadsAsPii(value)) {
    throw invalidRequest("purpose_invalid", `${PURPOSE_HEADER} must be a name of up to 64 characters that is not personal data: a letter, then letters, digits, ".", "_" or "-"`, PURPOSE_HEADER);
  }
  return value.toLowerCase();
}
