import { Redactor, type RedactOptions } from "./redact.js";

/**
 * Redacts every string in a JSON value — object keys included, since callers put emails and numbers there too —
 * for records that are stored or exported. Numbers stay numbers: a bare JSON number is never reported as PII,
 * because an amount or a count would be indistinguishable from an identifier without the surrounding text.
 * Pass a Redactor to share placeholders with the request's text (the same address is [EMAIL_1] in both). A
 * placeholder the value already holds anywhere is never issued for another value in it (Redactor.reserve).
 */
export function redactJson(value: unknown, options: RedactOptions = {}, redactor = new Redactor(options)): { value: unknown; redactor: Redactor } {
  redactor.reserve(strings(value, new Set()));
  return { value: walk(value, redactor, new Set()), redactor };
}

/** Every string of the value (keys included), for the placeholders it holds already. */
function* strings(value: unknown, ancestors: Set<object>): Generator<string> {
  if (typeof value === "string") {
    yield value;
    return;
  }
  if (value === null || typeof value !== "object" || ancestors.has(value)) return;
  ancestors.add(value);
  for (const [key, item] of Array.isArray(value) ? value.entries() : Object.entries(value)) {
    if (typeof key === "string") yield key;
    yield* strings(item, ancestors);
  }
  ancestors.delete(value);
}

function walk(value: unknown, redactor: Redactor, ancestors: Set<object>): unknown {
  if (typeof value === "string") return redactor.redactText(value).text;
  if (value === null || typeof value !== "object") return value;
  if (ancestors.has(value)) return "[Circular]";
  ancestors.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => walk(item, redactor, ancestors));
    const source = typeof (value as { toJSON?: unknown }).toJSON === "function" ? (value as { toJSON(): unknown }).toJSON() : value;
    if (source !== value) return walk(source, redactor, ancestors);
    if (value instanceof Error) return walk({ type: value.name, message: value.message, stack: value.stack }, redactor, ancestors);
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[redactor.redactText(key).text] = walk(item, redactor, ancestors);
    return out;
  } finally {
    ancestors.delete(value);
  }
}
