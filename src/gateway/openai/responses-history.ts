import { isClassification, type Classification } from "../../policy/classification.js";
import type { ChatTurn } from "../../pipeline/request-input.js";
import type { ExecutionStore } from "../../store/interface.js";
import { isPlainObject } from "../../structured/json-values.js";
import { invalidRequest } from "../errors.js";
import { responseExecutionId } from "./responses-answer.js";

/**
 * What a response continues (`previous_response_id`): the conversation its execution record holds, ending with its
 * answer, without its `instructions` (OpenAI carries a response's instructions over to none that follows it), the
 * calls of that answer still waiting for their outputs, and the classification it was handled at.
 */
export interface ResponseHistory {
  responseId: string;
  executionId: string;
  turns: ChatTurn[];
  openCalls: string[];
  classification: Classification | null;
}

/**
 * How a response's record says which of its turns came from `instructions`: its first, when `instructions` is true.
 * Records written before responses could be continued lack it, and are refused rather than guessed at.
 */
export interface RecordedConversation {
  kind: "chat";
  messages: ChatTurn[];
  instructions: boolean;
  previousResponseId?: string;
}

const PARAM = "previous_response_id";

/**
 * The response `id` of the caller's tenant, read back as a conversation to continue. Refused (400) when it is not one
 * of the tenant's responses, did not succeed, has had its content erased, or predates continuation. The turns are
 * the record's, so they hold placeholders wherever the request or the answer held PII (records never keep it).
 */
export async function responseHistory(executions: Pick<ExecutionStore, "get">, tenant: string, id: string): Promise<ResponseHistory> {
  const executionId = responseExecutionId(id);
  const record = executionId === null ? null : await executions.get(tenant, executionId);
  // Another tenant's response is not found, as one that never existed.
  if (record === null || record.endpoint !== "responses") throw invalidRequest("previous_response_not_found", `previous response ${id} was not found`, PARAM);
  if (record.contentErased !== undefined) {
    throw invalidRequest("previous_response_erased", `previous response ${id} had its content erased (${record.contentErased.at.toISOString()}): send the conversation's items in input`, PARAM);
  }
  if (record.status !== "succeeded") throw invalidRequest("previous_response_failed", `previous response ${id} failed (${record.errorCode}) and has no answer to continue from`, PARAM);
  const input = record.input as Partial<RecordedConversation> | null;
  if (input === null || input.kind !== "chat" || !Array.isArray(input.messages) || typeof input.instructions !== "boolean") {
    throw invalidRequest("previous_response_unsupported", `previous response ${id} was recorded before responses could be continued: send the conversation's items in input`, PARAM);
  }
  const answer = answerTurn(record.output, record.parameters["grammar"] === "tools");
  const policy = record.parameters["policy"];
  const classification = isPlainObject(policy) && isClassification(policy["classification"]) ? policy["classification"] : null;
  return {
    responseId: id,
    executionId: record.id,
    turns: [...input.messages.slice(input.instructions ? 1 : 0), answer],
    openCalls: answer.toolCalls?.map((call) => call.id) ?? [],
    classification,
  };
}

/**
 * The answer as an assistant turn: its text, its JSON value as text, or its calls (arguments back to JSON text, as
 * they were answered). Calls are told from a JSON answer of the same shape by the grammar the record names.
 */
export function answerTurn(output: unknown, toolsOffered: boolean): ChatTurn {
  if (typeof output === "string") return { role: "assistant", content: output };
  const calls = toolsOffered && isPlainObject(output) ? callsOf(output["tool_calls"]) : null;
  if (calls !== null) return { role: "assistant", content: "", toolCalls: calls.map((call) => ({ id: call.id, name: call.name, arguments: JSON.stringify(call.arguments) })) };
  return { role: "assistant", content: JSON.stringify(output) };
}

/** The calls as src/pipeline/tools/calls.ts recordedCalls keeps them, or null when `value` is not that. */
function callsOf(value: unknown): Array<{ id: string; name: string; arguments: unknown }> | null {
  if (!Array.isArray(value) || value.length === 0) return null;
  const wellFormed = value.every((call) => isPlainObject(call) && typeof call["id"] === "string" && typeof call["name"] === "string" && "arguments" in call);
  return wellFormed ? (value as Array<{ id: string; name: string; arguments: unknown }>) : null;
}
