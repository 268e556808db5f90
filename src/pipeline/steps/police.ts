import type { PolicyDecider } from "../../policy/index.js";
import type { ModelView } from "../model-view.js";
import { viewTexts } from "../model-view.js";
import { policyCheck, type PolicyCheck, type PolicySubject } from "../policy-gate.js";

/**
 * Classify and police: the request's classification and declared purpose, and the PII found in every text
 * the model would read or be steered by; null where no policy applies (an inference worker runs a model already
 * cleared). Whether each model may take the request, as sent or redacted, is decided with this when bidding and selecting (select.ts).
 */
export function classifyAndPolice(decider: PolicyDecider | undefined, subject: PolicySubject | undefined, view: ModelView): PolicyCheck | null {
  if (decider === undefined) return null;
  if (subject === undefined) throw new Error("a generation under a policy needs the caller and classification (request.policy)");
  return policyCheck(decider, subject, viewTexts(view));
}
