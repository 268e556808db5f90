import { Redactor, type RedactOptions } from "./redact.js";

/**
 * Redacts every string in a JSON value — object keys included, since callers put emails and numbers there too —
 * for records that are stored or exported. Numbers stay numbers: a bare JSON number is never reported as PII,
 * because an amount or a count would be indistinguishable from an identifier without the surrounding text.
 * Pass a Redactor to share placeholders with the request's text (the same address is [EMAIL_1] in both).
 */
export function redactJson(value: unknown, options: RedactOptions = {}, redactor = new Redactor(options)): { value: unknown; redactor: Redactor } {
  return { value: walk(value, redactor, new Set()), redactor };
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
