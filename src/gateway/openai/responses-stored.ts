import type { ExecutionRecord } from "../../store/interface.js";
import { isPlainObject } from "../../structured/json-values.js";
import { ApiError, notFound } from "../errors.js";
import { createdAtOf, failedResponse, finishedResponse, type ResponseEcho, type ResponseHead } from "./responses-answer.js";
import { answerTurn } from "./responses-history.js";

const seconds = (date: Date) => Math.floor(date.getTime() / 1000);

/**
 * A stored response read back (GET /v1/responses/:id) as POST answered it, from its execution record: the settings
 * it echoed (kept with its input), its answer, usage and times. What the record holds is what comes back: PII as the
 * record's placeholders, and no log-probabilities (they are not stored). Refused when the record is not a response,
 * predates responses being readable, or has had its content erased.
 */
export function storedResponse(id: string, record: ExecutionRecord | null) {
  if (record === null || record.endpoint !== "responses") throw notFound("response_not_found", `response ${id} does not exist`, "id");
  if (record.contentErased !== undefined) {
    throw new ApiError(404, "invalid_request_error", "response_erased",
      `response ${id} had its content erased (${record.contentErased.at.toISOString()}, audit event ${record.contentErased.auditEventId})`, "id");
  }
  const input = record.input as { echo?: ResponseEcho } | null;
  if (!isPlainObject(input?.echo)) {
    throw notFound("response_not_found", `response ${id} was recorded before responses could be read back: its record is at GET /v1/executions/${record.id}`, "id");
  }
  const head: ResponseHead = { executionId: record.id, createdAt: createdAtOf(record.id), echo: input.echo };
  const usage = { promptTokens: record.promptTokens, completionTokens: record.completionTokens };
  if (record.status !== "succeeded") return failedResponse(head, record.modelId, usage, record.errorCode ?? "failed");
  const answer = answerTurn(record.output, record.parameters["grammar"] === "tools");
  return finishedResponse(head, {
    model: { id: record.modelId },
    text: answer.content,
    ...(answer.toolCalls ? { toolCalls: answer.toolCalls } : {}),
    finishReason: record.parameters["finishReason"] === "length" ? "length" : "stop",
    ...usage,
  }, seconds(record.completedAt));
}
