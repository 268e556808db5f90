import type { GenerationResult } from "../../inference/interface.js";
import type { PreparedStructured, StructuredCheck } from "../structured.js";

export type Validation = StructuredCheck;

/**
 * Validate: structured output must satisfy its schema (or be a JSON object), tool calls their tools' schemas; free
 * text passes as it is. An output cut off at max_tokens says so first, since that is usually why it failed.
 */
export function validate(steering: PreparedStructured | undefined, result: GenerationResult, maxTokens: number): Validation {
  if (!steering) return { ok: true };
  const check = steering.check(result.text);
  if (check.ok) return check;
  return {
    ok: false,
    violations: result.finishReason === "length"
      ? [{ path: "", keyword: "max_tokens", message: `generation stopped at max_tokens (${maxTokens}) before the output was complete` }, ...check.violations]
      : check.violations,
  };
}
