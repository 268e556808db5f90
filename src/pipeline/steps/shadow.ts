import { canonicalize } from "../../util/canonical-json.js";
import type { GenerationRequest, PipelineDeps } from "../generate.js";
import type { Adapted } from "./adapt.js";
import type { Usage } from "./infer.js";
import type { Selected } from "./select.js";
import { validate } from "./validate.js";

/** A plain answer longer than this (normalised) is prose: two models never word it alike, so it is not compared. */
const COMPARABLE_TEXT_CHARS = 64;
/** The shadow may write this many tokens beyond the served answer's: an answer that needs more differs anyway. */
const SHADOW_TOKEN_SLACK = 8;

/** What was served, as the shadow's answer is compared with it: a structured value, or a short plain answer. */
export type ServedAnswer = { value: unknown } | { text: string };

/**
 * Shadow: where bidding asked for one (src/bidding/shadow.ts, `bidding.shadowRate`), the cheaper model answers the
 * same request after the served answer has gone — the same input, redaction, parameters and grammar, on a model the
 * policy cleared for this request — and the router learns whether the two agree. Its answer is compared, never
 * returned or stored; the decision record names the model. Only answers that can be compared are shadowed:
 * structured output, and short plain answers (a label, a number, a name); others are dropped unrun.
 */
export function shadow(deps: PipelineDeps, request: GenerationRequest, selected: Selected, adapted: Adapted, usage: Usage, served: ServedAnswer | null): void {
  const plan = selected.decision?.shadow;
  const routing = deps.routing;
  if (plan == null || routing === undefined) return;
  const executionId = request.executionId;
  const expected = served === null ? null : comparable(served);
  if (expected === null) {
    void routing.router.recordShadowComparison(executionId, null);
    return;
  }
  const maxTokens = Math.min(adapted.params.maxTokens, usage.completionTokens + SHADOW_TOKEN_SLACK);
  const run = async (): Promise<boolean | null> => {
    // Only the shadow's answer is compared: it is not scored token by token, whatever the caller asked of the served one.
    const { logprobs: _unscored, ...params } = adapted.params;
    const result = await deps.engine.generate(plan.modelId, adapted.input, { ...params, maxTokens }, { signal: undefined, onText: undefined });
    if (!selected.steering) return normalise(result.text) === expected;
    const check = validate(selected.steering, result, maxTokens);
    return check.ok && "value" in check ? canonicalize(check.value) === expected : false;
  };
  void run()
    .catch(() => null)
    .then((agrees) => routing.router.recordShadowComparison(executionId, agrees))
    .catch((error: unknown) => routing.onTrackingError(error, executionId));
}

/** The served answer in the form the shadow's is compared in; null when it cannot be compared. */
export function comparable(served: ServedAnswer): string | null {
  if ("value" in served) return canonicalize(served.value);
  const text = normalise(served.text);
  return text.length > 0 && text.length <= COMPARABLE_TEXT_CHARS ? text : null;
}

/** Case, spacing and closing punctuation are not what makes two short answers differ. */
export function normalise(text: string): string {
  return text.normalize("NFKC").toLowerCase().replace(/\s+/g, " ").trim().replace(/[.!。]+$/u, "").trim();
}
