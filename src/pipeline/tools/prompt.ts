import type { ChatMessage } from "../../inference/interface.js";
import type { ChatTurn } from "../request-input.js";
import { TOOL_CALL_CLOSE, TOOL_CALL_OPEN } from "./steering.js";
import type { ToolsSpec } from "./types.js";

/**
 * Tools and tool turns as the model reads them: plain system, user and assistant messages that its own chat
 * template then wraps. Signatures and calls take the form most tool-tuned open models were trained on (Hermes,
 * Qwen 2.5's template): the signatures as JSON lines in the system message, each call as JSON between <tool_call>
 * tags in the assistant's turn, because the grammar makes the model write calls in exactly that form
 * (steering.ts). A result is a user turn in words that name the function: between <tool_response> tags, as Qwen's
 * template has it, SmolLM2 135M echoed the tags instead of answering (measured at temperature 0; in words it
 * answered "The weather in Paris is quite pleasant, with a temperature of 18 degrees Celsius…").
 */
export function renderTurns(turns: readonly ChatTurn[]): ChatMessage[] {
  const messages: ChatMessage[] = [];
  const calledTool = new Map<string, string>();
  let results: ChatMessage | undefined;
  for (const turn of turns) {
    if (turn.role === "tool") {
      const result = `The result of ${calledTool.get(turn.toolCallId ?? "") ?? "the function"}: ${turn.content}`;
      // Results of one round of calls share a user turn.
      if (results !== undefined) results.content += `\n${result}`;
      else messages.push((results = { role: "user", content: result }));
      continue;
    }
    results = undefined;
    if (turn.role === "assistant" && turn.toolCalls?.length) {
      for (const call of turn.toolCalls) calledTool.set(call.id, call.name);
      const calls = turn.toolCalls.map((call) => `${TOOL_CALL_OPEN}${callJson(call.name, call.arguments)}${TOOL_CALL_CLOSE}`);
      messages.push({ role: "assistant", content: [turn.content, ...calls].filter((part) => part !== "").join("\n") });
    } else {
      messages.push({ role: turn.role, content: turn.content });
    }
  }
  return messages;
}

/** The messages with the offered tools and how to call them in the system message (a new one when there is none). */
export function withToolsShown(messages: readonly ChatMessage[], spec: ToolsSpec): ChatMessage[] {
  const offered = typeof spec.choice === "string" ? spec.tools : spec.tools.filter((tool) => tool.name === (spec.choice as { name: string }).name);
  const signatures = offered.map((tool) => JSON.stringify({
    type: "function",
    function: { name: tool.name, ...(tool.description === undefined ? {} : { description: tool.description }), parameters: tool.parameters },
  }));
  const block = [
    "# Tools",
    "",
    "You may call one or more functions to assist with the user query.",
    "",
    "You are provided with function signatures within <tools></tools> XML tags:",
    "<tools>",
    ...signatures,
    "</tools>",
    "",
    "For each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:",
    "<tool_call>",
    '{"name": <function-name>, "arguments": <args-json-object>}',
    "</tool_call>",
    ...(spec.choice === "auto" ? [] : ["", offered.length === 1 ? `Call ${offered[0]!.name} now.` : "Call one of the functions now."]),
  ].join("\n");
  const [first, ...rest] = messages;
  if (first?.role === "system") return [{ role: "system", content: `${first.content}\n\n${block}` }, ...rest];
  return [{ role: "system", content: block }, ...messages];
}

/**
 * `{"name": "get_weather", "arguments": {"city": "Paris"}}`: spaced as the template's `tojson` writes it and as
 * models then write it back. Arguments that are not JSON (a caller's own history) are shown as a JSON string.
 */
function callJson(name: string, args: string): string {
  let value: unknown;
  try {
    value = JSON.parse(args);
  } catch {
    value = args;
  }
  return spaced({ name, arguments: value });
}

function spaced(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(spaced).join(", ")}]`;
  if (typeof value === "object" && value !== null) {
    return `{${Object.entries(value).map(([key, item]) => `${JSON.stringify(key)}: ${spaced(item)}`).join(", ")}}`;
  }
  return JSON.stringify(value);
}
