import type { GenerationOutcome } from "../../pipeline/generate.js";
import type { ToolCallTurn } from "../../pipeline/request-input.js";

/** The assistant's message of a chat.completion: its text, or the calls it made (content null, as OpenAI has it). */
export function assistantMessage(outcome: GenerationOutcome): Record<string, unknown> {
  if (outcome.toolCalls) return { role: "assistant", content: null, tool_calls: outcome.toolCalls.map(toolCall), refusal: null };
  return { role: "assistant", content: outcome.text, refusal: null };
}

export function finishReasonOf(outcome: GenerationOutcome): string {
  return outcome.toolCalls ? "tool_calls" : outcome.finishReason;
}

function toolCall(call: ToolCallTurn) {
  return { id: call.id, type: "function", function: { name: call.name, arguments: call.arguments } };
}

/**
 * Calls as OpenAI streams them: a delta that opens each call (id, type, name and empty arguments; the first also
 * carries the role), then one with its arguments. Clients put them together by `index`.
 */
export function toolCallDeltas(calls: readonly ToolCallTurn[]): Array<Record<string, unknown>> {
  return calls.flatMap((call, index) => [
    {
      ...(index === 0 ? { role: "assistant", content: null } : {}),
      tool_calls: [{ index, id: call.id, type: "function", function: { name: call.name, arguments: "" } }],
      ...(index === 0 ? { refusal: null } : {}),
    },
    { tool_calls: [{ index, function: { arguments: call.arguments } }] },
  ]);
}
