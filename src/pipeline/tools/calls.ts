import { randomBytes } from "node:crypto";
import type { ToolCallTurn } from "../request-input.js";
import type { GeneratedToolCall, ToolsSpec } from "./types.js";

/**
 * The calls as the caller gets them: a fresh id each (the caller answers with it in a tool message), the tool under
 * the caller's own name for it (the model may have seen a redacted one), the arguments as JSON text. Arguments keep
 * any placeholders the model saw, like every structured value: restoring could break the schema they were checked against.
 */
export function answeredCalls(spec: ToolsSpec, generated: readonly GeneratedToolCall[]): ToolCallTurn[] {
  return generated.map((call) => ({ id: callId(), name: spec.tools[call.index]!.name, arguments: JSON.stringify(call.arguments) }));
}

/** "call_" and 24 letters and digits, as OpenAI's ids look (clients only ever compare them). */
function callId(): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  return `call_${[...randomBytes(24)].map((byte) => alphabet[byte % alphabet.length]).join("")}`;
}

/** What the execution record keeps of the calls: ids, names and the arguments as JSON values. */
export function recordedCalls(calls: readonly ToolCallTurn[]): { tool_calls: Array<{ id: string; name: string; arguments: unknown }> } {
  return { tool_calls: calls.map((call) => ({ id: call.id, name: call.name, arguments: JSON.parse(call.arguments) as unknown })) };
}
