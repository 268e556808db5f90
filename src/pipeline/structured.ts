import { invalidRequest } from "../gateway/errors.js";
import type { SchemaRef } from "../store/interface.js";
import {
  checkSchemaDocument,
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

/**
 * Checking and compiling a schema walks it whole; requests reuse a handful of schemas, so the last few hundred
 * are kept. A schema arriving inline is checked as thoroughly as a registered one: first what the grammar can
 * express (schema_unsupported), then JSON Schema validity as ajv sees it (schema_invalid).
 */
function compileCached(schema: Record<string, unknown>, param: string): CompiledGrammar {
  const key = JSON.stringify(schema);
  const cached = compiled.get(key);
  if (cached) return cached;
  let grammar: CompiledGrammar;
  try {
    grammar = compileJsonSchemaToGbnf(schema);
  } catch (error) {
    if (error instanceof UnsupportedSchemaError) {
      throw invalidRequest("schema_unsupported", `${param}${error.pointer}: ${error.reason}`, param, { pointer: error.pointer, keyword: error.keyword });
    }
    throw error;
  }
  const violations = checkSchemaDocument(schema);
  if (violations.length > 0) {
    const first = violations[0]!;
    throw invalidRequest("schema_invalid", `${param}${first.path}: ${first.message}`, param, { violations });
  }
  if (compiled.size >= CACHE_LIMIT) compiled.delete(compiled.keys().next().value as string);
  compiled.set(key, grammar);
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
  const grammar = compileCached(spec.schema, spec.param);
  return { grammar: grammar.grammar, maxOutputChars: grammar.maxOutputChars, check: (text) => parseStructuredOutput(text, spec.schema) };
}
