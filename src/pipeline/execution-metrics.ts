import type { Metrics } from "../observability/metrics/interface.js";
import type { Redactor } from "../redaction/index.js";
import type { ExecutionRecord } from "../store/interface.js";
import type { PolicyRecord } from "./policy-gate.js";

/**
 * Counts one execution on a model once it is recorded: outcome, tokens and timings per model, the policy decision
 * that let it through, and the PII values its record holds placeholders for (by then the redactor has replaced
 * them in input and output). Called for each generation and embedding, not for an asynchronous task's own record,
 * which sums microtasks already counted as they ran.
 */
export function countExecution(metrics: Metrics | undefined, record: ExecutionRecord, context: { policy?: PolicyRecord; redactor: Redactor }): void {
  if (metrics === undefined) return;
  metrics.execution({
    endpoint: record.endpoint,
    model: record.modelId,
    outcome: record.status === "succeeded" ? "succeeded" : (record.errorCode ?? "failed"),
    promptTokens: record.promptTokens,
    completionTokens: record.completionTokens,
    queueSeconds: record.timings.queueMs / 1000,
    inferenceSeconds: record.timings.inferenceMs / 1000,
  });
  if (context.policy !== undefined) metrics.policyDecision(context.policy.redacted ? "redact" : "send");
  for (const [kind, values] of context.redactor.valuesByKind()) metrics.piiRedacted(kind, values);
}
