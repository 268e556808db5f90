import { invalidRequest } from "../gateway/errors.js";
import { checkSchemaDocument, compileJsonSchemaToGbnf, UnsupportedSchemaError, type CompiledGrammar } from "../structured/index.js";

const CACHE_LIMIT = 256;
const compiled = new Map<string, CompiledGrammar>();

/**
 * A schema a request brings (a response format, a tool's parameters) as its grammar, or a 400 that names `param`.
 * Checking and compiling a schema walks it whole; requests reuse a handful of schemas, so the last few hundred
 * are kept. A schema arriving inline is checked as thoroughly as a registered one: first what the grammar can
 * express (schema_unsupported), then JSON Schema validity as ajv sees it (schema_invalid).
 */
export function compileRequestSchema(schema: Record<string, unknown>, param: string): CompiledGrammar {
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
