import { invalidRequest } from "../../gateway/errors.js";
import { compileJsonSchemaToGbnf, UnsupportedSchemaError, validateAgainstSchema, type CompiledGrammar, type Violation } from "../../structured/index.js";
import { compileRequestSchema } from "../schema-compile.js";
import type { PreparedStructured, StructuredCheck } from "../structured.js";
import { embeddedSchema } from "./embed-schema.js";
import type { GeneratedToolCall, ToolDefinition, ToolsSpec } from "./types.js";

/**
 * How a model writes a call: the convention most tool-tuned open models were trained on (Hermes, Qwen 2.5), one JSON
 * object per call between tags, each on its own lines. Inside JSON a line break is never part of a string, so
 * TOOL_CALL_CLOSE can only end a call.
 */
export const TOOL_CALL_OPEN = "<tool_call>\n";
export const TOOL_CALL_CLOSE = "\n</tool_call>";
/** Calls in one answer when parallel calls are allowed: enough for an agent's fan-out, and a bound on the output. */
export const MAX_PARALLEL_CALLS = 8;
/** Rule names of the call grammar; the capital keeps them apart from the answer grammar's (see GbnfRules). */
const CALL_RULE_PREFIX = "Call-";

/** Every tool's parameter schema, compiled and checked (400 naming the tool otherwise), offered or not. */
export function checkToolSchemas(tools: readonly ToolDefinition[]): void {
  tools.forEach((tool, index) => compileRequestSchema(tool.parameters, `tools[${index}].function.parameters`));
}

/**
 * The grammar and check for an answer that may (auto) or must (required, named) be calls:
 *
 *   root       ::= Tool-calls | Answer            (auto; required and named: Tool-calls)
 *   Tool-calls ::= Tool-call ("\n" Tool-call){0,MAX_PARALLEL_CALLS-1}
 *   Tool-call  ::= "<tool_call>\n" {"name": <an offered tool>, "arguments": <its parameter schema>} "\n</tool_call>"
 *   Answer     ::= the response format's grammar, or free text that does not begin with "<"
 *
 * so the first character decides between an answer and calls, and every call's arguments are generated under its
 * own tool's schema. Calls are then checked against that schema as given (formats, patterns, ranges the grammar
 * only approximates).
 */
export function prepareToolSteering(spec: ToolsSpec, answer: PreparedStructured | undefined): PreparedStructured {
  checkToolSchemas(spec.tools);
  const offered = offeredTools(spec);
  const call = splitRoot(callGrammar(spec.tools, offered));
  const maxCalls = spec.parallel ? MAX_PARALLEL_CALLS : 1;
  const auto = spec.choice === "auto";
  const answerRules = answer === undefined ? undefined : splitRoot(answer);
  const grammar = [
    `root ::= ${auto ? "Tool-calls | Answer" : "Tool-calls"}`,
    `Tool-calls ::= Tool-call${maxCalls > 1 ? ` ("\\n" Tool-call){0,${maxCalls - 1}}` : ""}`,
    `Tool-call ::= ${gbnfText(TOOL_CALL_OPEN)} ${call.entry} ${gbnfText(TOOL_CALL_CLOSE)}`,
    ...(auto ? [`Answer ::= ${answerRules?.entry ?? "([^<] [^\\x00]*)?"}`] : []),
    ...call.rules,
    ...(auto ? answerRules?.rules ?? [] : []),
  ].join("\n") + "\n";
  const callsChars = maxCalls * (TOOL_CALL_OPEN.length + call.maxOutputChars + TOOL_CALL_CLOSE.length) + (maxCalls - 1);
  return {
    grammar,
    // Room for every call the grammar allows; a free-text answer ends where the model ends it.
    maxOutputChars: auto && answer?.maxOutputChars != null ? Math.max(callsChars, answer.maxOutputChars) : callsChars,
    toolCalls: true,
    freeText: auto && answer === undefined,
    check: (text) => {
      if (text.startsWith(TOOL_CALL_OPEN.slice(0, 1))) return checkCalls(text, spec.tools, offered, maxCalls);
      if (!auto) return { ok: false, violations: [{ path: "", keyword: "tool_choice", message: "expected a tool call" }] };
      return answer === undefined ? { ok: true } : answer.check(text);
    },
  };
}

/** Positions of the tools the model may call. */
function offeredTools(spec: ToolsSpec): number[] {
  const choice = spec.choice;
  if (typeof choice === "string") return spec.tools.map((_, index) => index);
  const index = spec.tools.findIndex((tool) => tool.name === choice.name);
  if (index === -1) throw invalidRequest("tool_choice_unknown_tool", `tool_choice names ${choice.name}, which is not among the tools`, "tool_choice.function.name");
  return [index];
}

const CACHE_LIMIT = 128;
const compiled = new Map<string, CompiledGrammar>();

/** One schema for a call of any offered tool: {"name": const, "arguments": the tool's parameters}, compiled once. */
function callGrammar(tools: readonly ToolDefinition[], offered: readonly number[]): CompiledGrammar {
  const callOf = (index: number, at: string) => ({
    type: "object",
    properties: { name: { const: tools[index]!.name }, arguments: embeddedSchema(tools[index]!.parameters, `${at}/properties/arguments`) },
    required: ["name", "arguments"],
  });
  const schema = offered.length === 1 ? callOf(offered[0]!, "") : { anyOf: offered.map((index, position) => callOf(index, `/anyOf/${position}`)) };
  const key = JSON.stringify(schema);
  const cached = compiled.get(key);
  if (cached) return cached;
  let grammar: CompiledGrammar;
  try {
    grammar = compileJsonSchemaToGbnf(schema, { rulePrefix: CALL_RULE_PREFIX });
  } catch (error) {
    // Each tool compiled on its own already; together they can still fail (one oneOf across tools, say).
    if (error instanceof UnsupportedSchemaError) throw invalidRequest("schema_unsupported", `tools: ${error.reason}`, "tools", { pointer: error.pointer, keyword: error.keyword });
    throw error;
  }
  if (compiled.size >= CACHE_LIMIT) compiled.delete(compiled.keys().next().value as string);
  compiled.set(key, grammar);
  return grammar;
}

/** A compiled grammar's start element and its other rules, to be placed inside a larger grammar. */
function splitRoot(grammar: { grammar: string; maxOutputChars: number | null }): { entry: string; rules: string[]; maxOutputChars: number } {
  const [first, ...rules] = grammar.grammar.trimEnd().split("\n");
  if (!first?.startsWith("root ::= ")) throw new Error("a compiled grammar starts with its root rule");
  return { entry: first.slice("root ::= ".length), rules, maxOutputChars: grammar.maxOutputChars ?? 0 };
}

function gbnfText(text: string): string {
  return `"${text.replace(/[\\"]/g, "\\$&").replace(/\n/g, "\\n")}"`;
}

/** The calls in the output, each checked against its tool's schema; violations point at `/tool_calls/<n>/...`. */
function checkCalls(text: string, tools: readonly ToolDefinition[], offered: readonly number[], maxCalls: number): StructuredCheck {
  const calls: GeneratedToolCall[] = [];
  let rest = text;
  for (let n = 0; ; n++) {
    const failed = (message: string): StructuredCheck => ({ ok: false, violations: [{ path: `/tool_calls/${n}`, keyword: "tool_call", message }] });
    if (n >= maxCalls) return failed(`at most ${maxCalls} call(s) per answer`);
    if (!rest.startsWith(TOOL_CALL_OPEN)) return failed(`a call starts with ${JSON.stringify(TOOL_CALL_OPEN)}`);
    const end = rest.indexOf(TOOL_CALL_CLOSE, TOOL_CALL_OPEN.length);
    if (end === -1) return failed(`the call does not end with ${JSON.stringify(TOOL_CALL_CLOSE)}`);
    const call = checkCall(rest.slice(TOOL_CALL_OPEN.length, end), tools, offered, `/tool_calls/${n}`);
    if ("violations" in call) return { ok: false, violations: call.violations };
    calls.push(call);
    rest = rest.slice(end + TOOL_CALL_CLOSE.length);
    if (rest === "") return { ok: true, toolCalls: calls };
    if (!rest.startsWith("\n")) return failed("calls are separated by a line break");
    rest = rest.slice(1);
  }
}

function checkCall(json: string, tools: readonly ToolDefinition[], offered: readonly number[], path: string): GeneratedToolCall | { violations: Violation[] } {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    return { violations: [{ path, keyword: "json", message: `not valid JSON: ${(error as Error).message}` }] };
  }
  const call = typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  const index = offered.find((i) => tools[i]!.name === call["name"]);
  if (index === undefined) return { violations: [{ path: `${path}/name`, keyword: "enum", message: `not an offered tool: ${JSON.stringify(call["name"])}` }] };
  const result = validateAgainstSchema(tools[index]!.parameters, call["arguments"]);
  if (!result.valid) return { violations: result.violations.map((v) => ({ ...v, path: `${path}/arguments${v.path}` })) };
  return { index, arguments: call["arguments"] };
}
