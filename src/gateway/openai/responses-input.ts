import type { ChatTurn, ToolCallTurn } from "../../pipeline/request-input.js";
import type { AnswerSpec } from "../../pipeline/structured.js";
import { invalidRequest } from "../errors.js";
import { offeredTools, refuseToolFieldsWithoutTools, toolDefinition, type RequestTools } from "./chat-request.js";
import type { ResponseHistory } from "./responses-history.js";
import type { ResponsesRequest } from "./responses-request.js";

/**
 * A Responses request's conversation as the turns chat has: `instructions` first (a system turn), then the turns of
 * the response it continues (`previous_response_id`: src/gateway/openai/responses-history.ts), then the input items
 * in order. The function calls of one answer are one assistant turn (with the text of an assistant message right
 * before them), each function_call_output a tool turn. OpenAI's rules for calls are checked as the chat route checks
 * them, and refused (400) before anything runs: every call, the previous response's included, is answered by an
 * output naming its call_id before the next message or call, and an output answers a call that is still open.
 */
export function responsesTurns(body: Pick<ResponsesRequest, "instructions" | "input">, history?: ResponseHistory): ChatTurn[] {
  const turns: ChatTurn[] = [...(body.instructions == null ? [] : [{ role: "system" as const, content: body.instructions }]), ...(history?.turns ?? [])];
  // Open calls, by call_id, with where they were made: an input item's position, or the previous response.
  const open = new Map<string, string>(history?.openCalls.map((id) => [id, "previous_response_id"]));
  const seen = new Set<string>(history?.turns.flatMap((turn) => turn.toolCalls?.map((call) => call.id) ?? []));
  const unanswered = () => {
    const [first] = open.values();
    return invalidRequest("tool_result_missing",
      `${first}: no function_call_output answers the call(s) ${[...open.keys()].map((id) => JSON.stringify(id)).join(", ")}; each call needs one before the next message or call`,
      first);
  };
  if (typeof body.input === "string") {
    if (open.size > 0) throw unanswered();
    return [...turns, { role: "user", content: body.input }];
  }
  body.input.forEach((item, index) => {
    const last = turns.at(-1);
    if (item.type === "function_call_output") {
      if (!open.delete(item.call_id)) {
        throw invalidRequest("tool_call_id_unknown", `input[${index}].call_id: ${JSON.stringify(item.call_id)} answers no open function_call before it`, `input[${index}].call_id`);
      }
      turns.push({ role: "tool", content: text(item.output), toolCallId: item.call_id });
      return;
    }
    // A call joins the calls (or the text) of the answer just before it; after the outputs of a round, all answered, it opens a new one.
    if (open.size > 0 && last?.role === "tool") throw unanswered();
    if (item.type === "function_call") {
      if (seen.has(item.call_id)) throw invalidRequest("tool_call_id_duplicate", `input[${index}].call_id: ${JSON.stringify(item.call_id)} is used twice`, `input[${index}].call_id`);
      seen.add(item.call_id);
      open.set(item.call_id, `input[${index}]`);
      const call: ToolCallTurn = { id: item.call_id, name: item.name, arguments: item.arguments };
      if (last?.role === "assistant") last.toolCalls = [...(last.toolCalls ?? []), call];
      else turns.push({ role: "assistant", content: "", toolCalls: [call] });
      return;
    }
    if (open.size > 0) throw unanswered();
    // OpenAI's "developer" role is the newer name for "system".
    turns.push({ role: item.role === "developer" ? "system" : item.role, content: text(item.content) });
  });
  if (open.size > 0) throw unanswered();
  return turns;
}

function text(content: string | ReadonlyArray<{ text: string }>): string {
  return typeof content === "string" ? content : content.map((part) => part.text).join("");
}

/** The tools and the output format, checked under the Responses API's parameter names; recorded like chat's. */
export function responsesTools(body: Pick<ResponsesRequest, "text" | "tools" | "tool_choice" | "parallel_tool_calls">): RequestTools<ResponsesRequest["tool_choice"]> {
  const answer = answerSpec(body.text?.format);
  if (body.tools === undefined || body.tools.length === 0) {
    refuseToolFieldsWithoutTools(body);
    return { structured: answer };
  }
  const tools = body.tools.map(toolDefinition);
  const choice = body.tool_choice ?? "auto";
  const structured = offeredTools(tools, typeof choice === "string" ? choice : { name: choice.name }, body.parallel_tool_calls ?? true, answer, {
    tool: (index) => `tools[${index}]`,
    choiceName: "tool_choice.name",
  });
  return { structured, recorded: { tools, toolChoice: body.tool_choice ?? null, parallelToolCalls: body.parallel_tool_calls ?? null } };
}

function answerSpec(format: NonNullable<ResponsesRequest["text"]>["format"]): AnswerSpec | undefined {
  if (!format || format.type === "text") return undefined;
  if (format.type === "json_object") return { kind: "json_object" };
  return { kind: "json_schema", schema: format.schema, ref: null, param: "text.format.schema" };
}
