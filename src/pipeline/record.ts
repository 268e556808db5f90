import { executionEvent } from "../audit/events.js";
import type { ExecutionRecord } from "../store/interface.js";
import type { PipelineDeps } from "./generate.js";
import type { PolicyRecord } from "./policy-gate.js";

/**
 * Stores a finished execution together with its audit event; the caller answers only after this resolves. A
 * routed execution's event carries how bidding chose its model.
 */
export function recordExecution(
  deps: Pick<PipelineDeps, "executions" | "contentHasher">,
  record: ExecutionRecord,
  context: { routing?: Record<string, unknown>; policy?: PolicyRecord } = {},
): Promise<void> {
  const event = executionEvent(record, deps.contentHasher);
  const withPolicy = context.policy === undefined
    ? { record, event }
    : {
        // The policy set that allowed it, in the row and in the log: which rules were in force is part of the record.
        record: { ...record, parameters: { ...record.parameters, policy: context.policy } },
        event: { ...event, policy: { hash: context.policy.hash, decision: context.policy.decision }, parameters: { ...event.parameters, classification: context.policy.classification, piiKinds: context.policy.piiKinds } },
      };
  const final = context.routing === undefined ? withPolicy.event : { ...withPolicy.event, detail: { routing: context.routing } };
  return deps.executions.insert(withPolicy.record, final);
}
