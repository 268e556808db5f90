import { invalidRequest } from "../gateway/errors.js";
import type { SchemaRef } from "../store/interface.js";
import {
  compileJsonSchemaToGbnf,
  JSON_OBJECT_GRAMMAR,
  parseStructuredOutput,
  UnsupportedSchemaError,
  type CompiledGrammar,
  type Violation,
} from "../structured/index.js";

export type StructuredSpec =
  | { kind: "json_schema"; schema: Record<string, unknown>; ref: SchemaRef | null; param: string }
  | { kind: "json_object" };

export type StructuredCheck = { ok: true; value: unknown } | { ok: false; violations: Violation[] };

export interface PreparedStructured {
  grammar: string;
  maxOutputChars: number | null;
  check(text: string): StructuredCheck;
}

const CACHE_LIMIT = 256;
const compiled = new Map<string, CompiledGrammar>();

/** Compiling a schema walks it whole; requests reuse a handful of schemas, so keep the last few hundred. */
function compileCached(schema: Record<string, unknown>): CompiledGrammar {
  const key = JSON.stringify(schema);
  let grammar = compiled.get(key);
  if (!grammar) {
    grammar = compileJsonSchemaToGbnf(schema);
    if (compiled.size >= CACHE_LIMIT) compiled.delete(compiled.keys().next().value as string);
    compiled.set(key, grammar);
  }
  return grammar;
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
  if (spec.kind === "json_object") {
    return { grammar: JSON_OBJECT_GRAMMAR.grammar, maxOutputChars: JSON_OBJECT_GRAMMAR.maxOutputChars, check: checkJsonObject };
  }
  let grammar: CompiledGrammar;
  try {
    grammar = compileCached(spec.schema);
  } catch (error) {
    if (error instanceof UnsupportedSchemaError) {
      throw invalidRequest("schema_unsupported", `${spec.param}${error.pointer}: ${error.message}`, spec.param, { pointer: error.pointer, keyword: error.keyword });
    }
    throw error;
  }
  return { grammar: grammar.grammar, maxOutputChars: grammar.maxOutputChars, check: (text) => parseStructuredOutput(text, spec.schema) };
}
