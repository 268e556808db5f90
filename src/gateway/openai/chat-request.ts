import type { ChatTurn } from "../../pipeline/request-input.js";
import type { AnswerSpec, StructuredSpec } from "../../pipeline/structured.js";
import { compileRequestSchema } from "../../pipeline/schema-compile.js";
import type { ToolChoice, ToolDefinition } from "../../pipeline/tools/types.js";
import { invalidRequest } from "../errors.js";
import type { ChatCompletionRequest, ChatMessageParam } from "./requests.js";

/** A parameter schema for a function OpenAI clients declare without one: it takes no arguments. */
const NO_PARAMETERS = { type: "object", properties: {} };

/**
 * The messages as turns, with OpenAI's rules for tool turns checked: every call of an assistant message is answered
 * by a tool message naming its id, right after it, and a tool message answers a call that is still open. A
 * conversation that breaks them is refused (400) before anything runs, as OpenAI refuses it.
 */
export function chatTurns(messages: readonly ChatMessageParam[]): ChatTurn[] {
  const open = new Map<string, number>();
  const seen = new Set<string>();
  const unanswered = () => {
    const [first] = open.values();
    return invalidRequest("tool_result_missing",
      `messages[${first}]: no tool message answers the call(s) ${[...open.keys()].map((id) => JSON.stringify(id)).join(", ")}; each call needs one, right after it`,
      `messages[${first}].tool_calls`);
  };
  const turns = messages.map((message, index): ChatTurn => {
    if (message.role === "tool") {
      if (!open.delete(message.tool_call_id)) {
        throw invalidRequest("tool_call_id_unknown", `messages[${index}].tool_call_id: ${JSON.stringify(message.tool_call_id)} answers no open call of the assistant message before it`, `messages[${index}].tool_call_id`);
      }
      return { role: "tool", content: text(message.content), toolCallId: message.tool_call_id };
    }
    if (open.size > 0) throw unanswered();
    const turn: ChatTurn = {
      // OpenAI's "developer" role is the newer name for "system".
      role: message.role === "developer" ? "system" : message.role,
      content: message.content == null ? "" : text(message.content),
      ...(message.name === undefined ? {} : { name: message.name }),
    };
    if (message.role !== "assistant" || message.tool_calls == null) return turn;
    message.tool_calls.forEach((call, position) => {
      if (seen.has(call.id)) throw invalidRequest("tool_call_id_duplicate", `messages[${index}].tool_calls[${position}].id: ${JSON.stringify(call.id)} is used twice`, `messages[${index}].tool_calls[${position}].id`);
      seen.add(call.id);
      open.set(call.id, index);
    });
    return { ...turn, toolCalls: message.tool_calls.map((call) => ({ id: call.id, name: call.function.name, arguments: call.function.arguments })) };
  });
  if (open.size > 0) throw unanswered();
  return turns;
}

function text(content: string | Array<{ text: string }>): string {
  return typeof content === "string" ? content : content.map((part) => part.text).join("");
}

/** The tools as the caller defined them, checked: names unique, tool_choice naming one of them, schemas usable. */
export interface RequestTools<Choice> {
  /** What the output is held to: tools offered (not with tool_choice "none"), a response format, or nothing. */
  structured: StructuredSpec | undefined;
  /** What the execution keeps of the tools besides the turns (tool_choice as the caller wrote it); absent without tools. */
  recorded?: { tools: ToolDefinition[]; toolChoice: Choice | null; parallelToolCalls: boolean | null };
}

export function chatTools(body: ChatCompletionRequest): RequestTools<ChatCompletionRequest["tool_choice"]> {
  const answer = answerSpec(body);
  if (body.tools === undefined) {
    refuseToolFieldsWithoutTools(body);
    return { structured: answer };
  }
  const tools = body.tools.map(({ function: f }) => toolDefinition(f));
  const choice = body.tool_choice ?? "auto";
  const structured = offeredTools(tools, typeof choice === "string" ? choice : { name: choice.function.name }, body.parallel_tool_calls ?? true, answer, {
    tool: (index) => `tools[${index}].function`,
    choiceName: "tool_choice.function.name",
  });
  return { structured, recorded: { tools, toolChoice: body.tool_choice ?? null, parallelToolCalls: body.parallel_tool_calls ?? null } };
}

/** tool_choice and parallel_tool_calls mean nothing without tools: refused rather than ignored. */
export function refuseToolFieldsWithoutTools(body: { tool_choice?: unknown; parallel_tool_calls?: boolean | null }): void {
  for (const param of ["tool_choice", "parallel_tool_calls"] as const) {
    if (body[param] != null) throw invalidRequest("tools_missing", `${param} is only allowed when tools are given`, param);
  }
}

/** A function as a request declares it (chat nests it under `function`, Responses does not). */
export function toolDefinition(f: { name: string; description?: string | null; parameters?: Record<string, unknown> | null }): ToolDefinition {
  return { name: f.name, ...(f.description == null ? {} : { description: f.description }), parameters: f.parameters ?? NO_PARAMETERS };
}

/** Where a request's errors about its tools point: chat's `tools[i].function.name`, Responses' `tools[i].name`. */
export interface ToolParams {
  tool: (index: number) => string;
  choiceName: string;
}

/**
 * The tools a request offers, checked under the request's own parameter names before anything runs: names unique,
 * tool_choice naming one of them, every parameter schema usable (offered or not; the pipeline then finds them
 * compiled). What the output is held to: the tools with the answer format beside them, or, under tool_choice
 * "none", the answer format alone (the tools are then neither shown nor scanned).
 */
export function offeredTools(tools: ToolDefinition[], choice: "none" | ToolChoice, parallel: boolean, answer: AnswerSpec | undefined, params: ToolParams): StructuredSpec | undefined {
  tools.forEach((tool, index) => {
    if (tools.findIndex((other) => other.name === tool.name) !== index) {
      throw invalidRequest("tool_name_duplicate", `${params.tool(index)}.name: ${tool.name} is defined twice`, `${params.tool(index)}.name`);
    }
  });
  if (typeof choice === "object" && !tools.some((tool) => tool.name === choice.name)) {
    throw invalidRequest("tool_choice_unknown_tool", `tool_choice names ${choice.name}, which is not among the tools`, params.choiceName);
  }
  tools.forEach((tool, index) => compileRequestSchema(tool.parameters, `${params.tool(index)}.parameters`));
  if (choice === "none") return answer;
  return { kind: "tools", tools, choice, parallel, ...(answer === undefined ? {} : { answer }) };
}

function answerSpec(body: ChatCompletionRequest): AnswerSpec | undefined {
  const format = body.response_format;
  if (!format || format.type === "text") return undefined;
  if (format.type === "json_object") return { kind: "json_object" };
  return { kind: "json_schema", schema: format.json_schema.schema, ref: null, param: "response_format.json_schema.schema" };
}
