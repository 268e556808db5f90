import { executionEvent } from "../audit/events.js";
import type { ExecutionRecord } from "../store/interface.js";
import type { PipelineDeps } from "./generate.js";

/** Stores a finished execution together with its audit event; the caller answers only after this resolves. */
export function recordExecution(deps: Pick<PipelineDeps, "executions" | "contentHasher">, record: ExecutionRecord): Promise<void> {
  return deps.executions.insert(record, executionEvent(record, deps.contentHasher));
}
