export { compileJsonSchemaToGbnf, type CompiledGrammar } from "./json-schema-grammar.js";
export { UnsupportedSchemaError } from "./unsupported-schema-error.js";
export { JSON_OBJECT_GRAMMAR, JSON_OBJECT_LIMITS } from "./json-object-grammar.js";
export {
  DEFAULT_MAX_ITEMS,
  DEFAULT_MAX_STRING_LENGTH,
  MAX_FRACTION_DIGITS,
  MAX_INTEGER_DIGITS,
  MAX_REPETITIONS,
  MAX_SCHEMA_DEPTH,
} from "./grammar-limits.js";
export {
  checkSchemaDocument,
  parseStructuredOutput,
  validateAgainstSchema,
  type ParsedOutput,
  type ValidationResult,
  type Violation,
} from "./validator.js";
