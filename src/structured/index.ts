export {
  compileJsonSchemaToGbnf,
  UnsupportedSchemaError,
  JSON_OBJECT_GBNF,
  JSON_OBJECT_GBNF as JSON_OBJECT_GRAMMAR,
  JSON_OBJECT_LIMITS,
  DEFAULT_MAX_ITEMS,
  DEFAULT_MAX_STRING_LENGTH,
  MAX_FRACTION_DIGITS,
  MAX_INTEGER_DIGITS,
  MAX_REPETITIONS,
  MAX_SCHEMA_DEPTH,
  type CompiledGrammar,
} from "./json-schema-grammar.js";
export {
  checkSchemaDocument,
  parseStructuredOutput,
  validateAgainstSchema,
  type ParsedOutput,
  type ValidationResult,
  type Violation,
} from "./validator.js";
