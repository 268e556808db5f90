import type { MiddlewareHandler } from "hono";
import { CLASSIFICATIONS, isClassification, type Classification, type PolicyDecider } from "../../../policy/index.js";
import { invalidRequest } from "../../errors.js";

declare module "hono" {
  interface ContextVariableMap {
    classification: Classification;
  }
}

export const CLASSIFICATION_HEADER = "x-atomic-data-classification";

/**
 * How sensitive the request's data is: the caller says so in a header, or the tenant's default from the policy
 * data applies. Under `authenticate` (the tenant must be known). An unknown level is refused, never guessed.
 */
export function dataClassification(policy: Pick<PolicyDecider, "tenantDefaultClassification">): MiddlewareHandler {
  return async function dataClassificationHandler(c, next) {
    const given = c.req.header(CLASSIFICATION_HEADER);
    if (given !== undefined && !isClassification(given)) {
      throw invalidRequest("classification_invalid", `${CLASSIFICATION_HEADER} must be one of ${CLASSIFICATIONS.join(", ")}`, CLASSIFICATION_HEADER);
    }
    c.set("classification", given ?? policy.tenantDefaultClassification(c.get("principal").tenant));
    await next();
  };
}
