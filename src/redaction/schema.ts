import type { Redactor } from "./redact.js";
import { patternReading } from "./pattern.js";

/**
 * What a JSON Schema says to a model. The model is steered by it (the grammar compiled from it makes the model
 * write its enum and const values and its property names) and may read it (tasks show it in the prompt), so every
 * string in it counts: property names and other keys, enum/const/default/examples values (whole JSON values,
 * their keys included), descriptions, titles, and patterns, read for the literal text they spell.
 */
interface SchemaStrings {
  text(value: string): string;
  pattern(value: string): string;
}

/** Keywords whose values are instances (data), not schemas: a "pattern" key in them is just a key. */
const DATA_KEYWORDS = new Set(["enum", "const", "default", "examples"]);
/** Keywords whose values map names to schemas: a name is a name there, even "enum" or "pattern". */
const SCHEMA_MAPS = new Set(["properties", "patternProperties", "dependentSchemas", "$defs", "definitions"]);

/** Every text of a schema, as detectors should read it (patterns as the literal text they spell). */
export function schemaTexts(schema: unknown): string[] {
  const texts: string[] = [];
  walkSchema(schema, {
    text: (value) => (texts.push(value), value),
    pattern: (value) => (texts.push(patternReading(value).text), value),
  });
  return texts;
}

/**
 * The schema with each detected value replaced by the placeholder `redactor` gives it everywhere else in the
 * request, so the grammar steers the model to "[EMAIL_1]" where the schema had the address, a property named by an
 * address is "[EMAIL_1]" in "properties" and "required" alike, and a pattern matches the placeholder literally.
 */
export function redactSchema<T>(schema: T, redactor: Redactor): T {
  return walkSchema(schema, { text: (value) => redactor.redactText(value).text, pattern: (value) => redactor.redactPattern(value) }) as T;
}

function walkSchema(node: unknown, strings: SchemaStrings): unknown {
  if (typeof node === "string") return strings.text(node);
  if (Array.isArray(node)) return node.map((item) => walkSchema(item, strings));
  if (!isRecord(node)) return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (DATA_KEYWORDS.has(key)) out[strings.text(key)] = walkData(value, strings);
    else if (key === "pattern" && typeof value === "string") out[key] = strings.pattern(value);
    else if (SCHEMA_MAPS.has(key) && isRecord(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([name, schema]) => [strings.text(name), walkSchema(schema, strings)]));
    } else out[strings.text(key)] = walkSchema(value, strings);
  }
  return out;
}

function walkData(value: unknown, strings: SchemaStrings): unknown {
  if (typeof value === "string") return strings.text(value);
  if (Array.isArray(value)) return value.map((item) => walkData(item, strings));
  if (!isRecord(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [strings.text(key), walkData(item, strings)]));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
