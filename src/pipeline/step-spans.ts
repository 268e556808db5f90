import type { Attributes } from "@opentelemetry/api";
import type { GenerationResult } from "../inference/interface.js";
import { ATTR } from "../observability/tracing/interface.js";
import type { PolicyCheck } from "./policy-gate.js";
import type { Adapted } from "./steps/adapt.js";
import type { Selected } from "./steps/select.js";
import type { Validation } from "./steps/validate.js";

/**
 * What each pipeline step's span says of its outcome (runGeneration wraps each step in a span): the model, how it
 * was chosen, the task class and adaptation mode, tokens. Nothing of the request's content and no ids.
 */
export function policedAttributes(check: PolicyCheck | null): Attributes {
  return check === null ? {} : { [ATTR.classification]: check.record.classification };
}

export function selectedAttributes(selected: Selected): Attributes {
  return {
    [ATTR.model]: selected.model.id,
    // A model the caller named was not bid for.
    [ATTR.decisionMode]: selected.decision?.assignments[0]?.mode ?? "named",
    [ATTR.redacted]: selected.redacted,
  };
}

export function adaptedAttributes(selected: Selected): (adapted: Adapted) => Attributes {
  return (adapted) => ({
    [ATTR.model]: selected.model.id,
    ...(adapted.record === null ? {} : { [ATTR.taskClass]: adapted.record.taskClass, [ATTR.adaptationMode]: adapted.record.mode }),
  });
}

export function inferredAttributes(modelId: string, attempt: number): (result: GenerationResult) => Attributes {
  return (result) => ({
    [ATTR.model]: modelId,
    [ATTR.attempt]: attempt,
    [ATTR.inputTokens]: result.promptTokens,
    [ATTR.outputTokens]: result.completionTokens,
    [ATTR.finishReason]: [result.finishReason],
  });
}

export function validatedAttributes(validation: Validation): Attributes {
  return { [ATTR.valid]: validation.ok };
}
