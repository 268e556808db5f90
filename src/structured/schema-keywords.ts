import { FORMAT_VALIDATORS, isSupportedFormat } from "./formats.js";
import { UnsupportedSchemaError } from "./unsupported-schema-error.js";

/** Keywords that only annotate, or hold definitions that are compiled when a $ref reaches them. */
const ANNOTATIONS = [
  "$schema",
  "$id",
  "$comment",
  "title",
  "description",
  "default",
  "examples",
  "deprecated",
  "readOnly",
  "writeOnly",
  "$defs",
  "definitions",
];

/** Keywords the grammar enforces loosely or not at all; the validator checks them once output exists. */
const CHECKED_AFTERWARDS = [
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "multipleOf",
  "pattern",
  "format",
  "uniqueItems",
];

/** Keywords that shape the grammar. */
export const SHAPING_KEYWORDS: ReadonlySet<string> = new Set([
  "type",
  "enum",
  "const",
  "properties",
  "required",
  "additionalProperties",
  "items",
  "minItems",
  "maxItems",
  "minLength",
  "maxLength",
  "minProperties",
  "maxProperties",
  "$ref",
  "allOf",
  "anyOf",
  "oneOf",
]);

const KNOWN_KEYWORDS: ReadonlySet<string> = new Set([...ANNOTATIONS, ...CHECKED_AFTERWARDS, ...SHAPING_KEYWORDS]);

/**
 * Refuses keywords outside the supported set: each one either changes which values are valid in a way the grammar
 * would ignore (patternProperties, if/then/else, not, ...) or is unknown, and ignoring it would let invalid output
 * through. The same goes for formats the validator cannot check.
 */
export function assertSupportedKeywords(schema: Record<string, unknown>, pointer: string): void {
  const unknown = Object.keys(schema).find((keyword) => !KNOWN_KEYWORDS.has(keyword));
  if (unknown !== undefined) {
    throw new UnsupportedSchemaError(pointer, unknown, "this keyword is not supported in structured output schemas");
  }
  if ("$id" in schema && pointer !== "") {
    const reason = "only the root may have an $id; a nested one changes what $ref means";
    throw new UnsupportedSchemaError(pointer, "$id", reason);
  }
  if ("format" in schema && !isSupportedFormat(schema.format)) {
    const supported = Object.keys(FORMAT_VALIDATORS).join(", ");
    throw new UnsupportedSchemaError(pointer, "format", `unknown format ${String(schema.format)}; supported: ${supported}`);
  }
}
