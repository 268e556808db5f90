/** Keywords whose values are instances (data), not schemas: a "$ref" key in them is just a key. */
const DATA_KEYWORDS = new Set(["enum", "const", "default", "examples"]);
/** Keywords whose values map names to schemas: a property may be called "$ref". */
const SCHEMA_MAPS = new Set(["properties", "patternProperties", "dependentSchemas", "$defs", "definitions"]);

/**
 * A tool's parameter schema as a part of the one schema all calls are compiled from, placed at the JSON pointer
 * `at`: its references into itself ("#/$defs/x", "#") are moved there too, and the keywords only a root may carry
 * ($id, $schema) are dropped. The tool's own schema, unchanged, is still what each call's arguments are checked
 * against, so its dialect decides what they mean.
 */
export function embeddedSchema(schema: Record<string, unknown>, at: string): Record<string, unknown> {
  const { $id: _id, $schema: _dialect, ...rest } = schema;
  return rebased(rest, at) as Record<string, unknown>;
}

function rebased(node: unknown, at: string): unknown {
  if (Array.isArray(node)) return node.map((item) => rebased(item, at));
  if (!isRecord(node)) return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (DATA_KEYWORDS.has(key)) out[key] = value;
    else if (key === "$ref" && typeof value === "string" && (value === "#" || value.startsWith("#/"))) out[key] = `#${at}${value.slice(1)}`;
    else if (SCHEMA_MAPS.has(key) && isRecord(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([name, schema]) => [name, rebased(schema, at)]));
    } else out[key] = rebased(value, at);
  }
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
