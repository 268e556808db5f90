import { executionEvent } from "../audit/events.js";
import { currentTraceId } from "../observability/tracing/spans.js";
import { redactJson, Redactor } from "../redaction/index.js";
import type { ExecutionRecord } from "../store/interface.js";
import type { PipelineDeps } from "./generate.js";
import type { PolicyRecord } from "./policy-gate.js";

export interface RecordContext {
  routing?: Record<string, unknown>;
  /** The execution this one continues (GenerationRequest.continues). */
  continues?: string;
  policy?: PolicyRecord;
  /**
   * The request's redactor, when the model already saw placeholders from it: the stored input and output then use
   * the same placeholders the model read and wrote.
   */
  redactor?: Redactor;
}

/**
 * Stores a finished execution together with its audit event; the caller answers only after this resolves. A
 * routed execution's event carries how bidding chose its model, and one that continues another names it.
 *
 * Input and output are stored with detected PII replaced by placeholders whatever the policy let the model see:
 * a model cleared for raw PII gets it, the stored row and the audit log's content hashes never do, so erasing
 * or exporting records never has to find PII first.
 *
 * The row names the trace it was recorded in (the request's, or a task's, carried through its workflow), when traced;
 * the audit event does not: it is how the request was observed, not what it was.
 */
export function recordExecution(deps: Pick<PipelineDeps, "executions" | "contentHasher">, record: ExecutionRecord, context: RecordContext = {}): Promise<void> {
  const { policy, routing, continues } = context;
  const redactor = context.redactor ?? new Redactor();
  // Input before output, so that a value the model repeats gets the placeholder its input occurrence got.
  const input = redactJson(record.input, {}, redactor).value;
  const redacted: ExecutionRecord = { ...record, input, output: redactJson(record.output, {}, redactor).value };
  let event = executionEvent(redacted, deps.contentHasher);
  // The policy set that allowed it, in the row and in the log: which rules were in force is part of the record.
  if (policy) {
    event = {
      ...event,
      policy: { hash: policy.hash, decision: policy.decision },
      parameters: { ...event.parameters, classification: policy.classification, piiKinds: policy.piiKinds, purpose: policy.purpose },
    };
  }
  if (routing || continues) event = { ...event, detail: { ...(routing ? { routing } : {}), ...(continues ? { continues } : {}) } };
  const traceId = currentTraceId();
  const stored = { ...redacted, ...(policy ? { parameters: { ...redacted.parameters, policy } } : {}), ...(traceId === undefined ? {} : { traceId }) };
  return deps.executions.insert(stored, event);
}
