import { executionEvent } from "../audit/events.js";
import type { ExecutionRecord } from "../store/interface.js";
import type { PipelineDeps } from "./generate.js";

/**
 * Stores a finished execution together with its audit event; the caller answers only after this resolves. A
 * routed execution's event carries how bidding chose its model.
 */
export function recordExecution(deps: Pick<PipelineDeps, "executions" | "contentHasher">, record: ExecutionRecord, routing?: Record<string, unknown>): Promise<void> {
  const event = executionEvent(record, deps.contentHasher);
  return deps.executions.insert(record, routing === undefined ? event : { ...event, detail: { routing } });
}
