import { concat, GbnfRules, literal, whitespace, type Fragment } from "../../../structured/gbnf.js";
import { asciiJson, isPlainObject } from "../../../structured/json-values.js";
import { identifierReadsAsPii } from "../../../redaction/identifier.js";
import { TASK_LABEL_PATTERN } from "../../task-class.js";

/**
 * Labels inside a structured answer (response_format json_schema): which field of the answer holds the label, and
 * where in the answer its value begins.
 *
 * The rule: an answer's *label field* is the one top-level property of its object schema whose schema is a string
 * `enum` — an `enum` of at least two strings, each written in JSON as plain printable ASCII (no quote, backslash or
 * control character), with no `type` or `type: "string"` — and whose name is an identifier like a task label
 * (letters, digits, '.', '_', '-', at most 64) that does not read as PII: the name enters the execution's adaptation
 * record, which the audit log keeps, as it keeps task classes (a schema shown raw to a model cleared for PII is read
 * as the caller wrote it). A schema with no such property, or with several, has no label field (an
 * operator can still name one for a fit: `label_field`).
 */
export interface LabelField {
  field: string;
  /** The enum's values, in the schema's order: every label the grammar allows there. */
  labels: string[];
}

export function labelFieldOf(schema: unknown): LabelField | null {
  if (!isPlainObject(schema) || schema.type !== "object" || !isPlainObject(schema.properties)) return null;
  const found: LabelField[] = [];
  for (const [field, property] of Object.entries(schema.properties)) {
    if (!TASK_LABEL_PATTERN.test(field)) continue;
    const labels = stringEnum(property);
    if (labels !== null && !identifierReadsAsPii(field)) found.push({ field, labels });
  }
  return found.length === 1 ? found[0]! : null;
}

function stringEnum(property: unknown): string[] | null {
  if (!isPlainObject(property) || !Array.isArray(property.enum) || "const" in property) return null;
  if (property.type !== undefined && property.type !== "string") return null;
  const values = property.enum;
  if (values.length < 2 || !values.every((v): v is string => typeof v === "string" && plainLabel(v))) return null;
  return [...new Set(values)];
}

/** A label the grammar writes as itself between quotes, so that its first token is the label's own. */
export function plainLabel(label: string): boolean {
  return label.length > 0 && asciiJson(label) === `"${label}"` && !label.includes("\\");
}

/**
 * The GBNF grammar of an answer up to where the label field's value begins: its opening brace, the properties the
 * answer holds before the field (with the values this answer has), the field's name and the value's opening quote,
 * with the optional layout of the gateway's structured grammar (src/structured/gbnf.ts `whitespace`) wherever that
 * grammar allows it — the same rule, so the model chooses the same layout it chooses when it answers.
 *
 * `answer` is the stored answer, its properties in the order they were generated (the schema's declared order;
 * executions keep JSON as written). Values before the field are written compactly, as the grammar's literals are
 * (an object or array value among them may have been laid out otherwise). Null where the answer lacks the field.
 */
export function answerPrefixGrammar(field: string, answer: Record<string, unknown>): AnswerPrefix | null {
  const names = Object.keys(answer);
  const at = names.indexOf(field);
  if (at < 0) return null;
  const rules = new GbnfRules();
  const ws = whitespace(rules);
  const parts: Array<string | Fragment> = ["{"];
  names.slice(0, at).forEach((name, index) => parts.push(...(index === 0 ? [] : [","]), ws, `${asciiJson(name)}:`, ws, literal(asciiJson(answer[name]))));
  parts.push(...(at === 0 ? [] : [","]), ws, `${asciiJson(field)}:`, ws, '"');
  const { body, maxChars } = concat(parts);
  return { grammar: rules.render({ element: rules.define("prefix", body), maxChars }), maxChars };
}

/** An answer's beginning up to a label field's value, as a grammar (llama.cpp GBNF, start rule `root`). */
export interface AnswerPrefix {
  grammar: string;
  /** The most characters it can match: with ASCII output, a bound on its tokens too. */
  maxChars: number;
}

/** A stored answer as an object: the JSON value itself, or JSON text of an object; null for anything else. */
export function answerObject(output: unknown): Record<string, unknown> | null {
  if (typeof output === "string") {
    try {
      output = JSON.parse(output);
    } catch {
      return null;
    }
  }
  return isPlainObject(output) ? output : null;
}
