import type { SchemaRef } from "../store/interface.js";
import { JSON_OBJECT_GRAMMAR, parseStructuredOutput, type Violation } from "../structured/index.js";
import { compileRequestSchema } from "./schema-compile.js";
import { prepareToolSteering } from "./tools/steering.js";
import type { GeneratedToolCall, ToolsSpec } from "./tools/types.js";

/** The format of an answer: JSON under a schema, or any JSON object. */
export type AnswerSpec =
  | { kind: "json_schema"; schema: Record<string, unknown>; ref: SchemaRef | null; param: string }
  | { kind: "json_object" };

/** What a request's output is held to: an answer format, or tools the model may call (with an answer format or not). */
export type StructuredSpec = AnswerSpec | ToolsSpec;

/**
 * The output checked: a JSON answer's `value`, the `toolCalls` a model made, or neither for free text (an answer
 * beside tools without a response format).
 */
export type StructuredCheck = { ok: true; value?: unknown; toolCalls?: GeneratedToolCall[] } | { ok: false; violations: Violation[] };

export interface PreparedStructured {
  grammar: string;
  maxOutputChars: number | null;
  /** The output may be tool calls: text that begins with "<" (an answer beside them never does). */
  toolCalls: boolean;
  /** The output may be free text, which nothing checks: an answer of that kind is text like any other. */
  freeText: boolean;
  check(text: string): StructuredCheck;
}

function checkJsonObject(text: string): StructuredCheck {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return { ok: true, value };
    return { ok: false, violations: [{ path: "", keyword: "type", message: "must be a JSON object" }] };
  } catch (error) {
    return { ok: false, violations: [{ path: "", keyword: "json", message: `not valid JSON: ${(error as Error).message}` }] };
  }
}

/** Turns a request's output format into a grammar for generation and a check for the result. */
export function prepareStructured(spec: StructuredSpec): PreparedStructured {
  if (spec.kind === "tools") return prepareToolSteering(spec, spec.answer === undefined ? undefined : prepareAnswer(spec.answer));
  return prepareAnswer(spec);
}

function prepareAnswer(spec: AnswerSpec): PreparedStructured {
  const format = { toolCalls: false, freeText: false };
  if (spec.kind === "json_object") {
    return { grammar: JSON_OBJECT_GRAMMAR.grammar, maxOutputChars: JSON_OBJECT_GRAMMAR.maxOutputChars, ...format, check: checkJsonObject };
  }
  const grammar = compileRequestSchema(spec.schema, spec.param);
  return { grammar: grammar.grammar, maxOutputChars: grammar.maxOutputChars, ...format, check: (text) => parseStructuredOutput(text, spec.schema) };
}
