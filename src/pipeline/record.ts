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
  const { policy, routing } = context;
  let event = executionEvent(record, deps.contentHasher);
  // The policy set that allowed it, in the row and in the log: which rules were in force is part of the record.
  if (policy) {
    event = { ...event, policy: { hash: policy.hash, decision: policy.decision }, parameters: { ...event.parameters, classification: policy.classification, piiKinds: policy.piiKinds } };
  }
  if (routing) event = { ...event, detail: { routing } };
  const stored = policy ? { ...record, parameters: { ...record.parameters, policy } } : record;
  return deps.executions.insert(stored, event);
}
