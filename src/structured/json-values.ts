/** The seven JSON Schema instance types. */
export type JsonType = "null" | "boolean" | "object" | "array" | "string" | "number" | "integer";

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Compact JSON with every non-ASCII character written as a \u escape. Grammar output is ASCII only, so literals
 * (enum values, property names) must be spelled in ASCII too; JSON.parse restores the original text.
 */
export function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[^\x20-\x7e]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** The most specific type of a JSON value: whole numbers are "integer", as JSON Schema counts them. */
export function jsonTypeOf(value: unknown): JsonType {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value as "boolean" | "object" | "string";
}

/** Whether a value satisfies `type: <type>`; an integer is also a number. */
export function valueHasType(value: unknown, type: unknown): boolean {
  const actual = jsonTypeOf(value);
  return actual === type || (actual === "integer" && type === "number");
}

