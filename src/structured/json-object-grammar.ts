import { alternation, delimitedList, GbnfRules, literal, whitespace, type Fragment } from "./gbnf.js";
import type { CompiledGrammar } from "./json-schema-grammar.js";
import { booleanGrammar, NULL_GRAMMAR, numberGrammar, stringGrammar } from "./scalar-grammars.js";

/**
 * Bounds of the `json_object` response format. Nesting multiplies the longest output, so containers and strings
 * stay small to keep JSON_OBJECT_GRAMMAR.maxOutputChars in the low thousands.
 */
export const JSON_OBJECT_LIMITS = {
  /** Containers nested inside each other, the root object included. */
  depth: 3,
  /** Members per object and items per array. */
  maxEntries: 4,
  maxKeyLength: 16,
  maxStringLength: 32,
} as const;

/** Any JSON object within JSON_OBJECT_LIMITS, ASCII only (compact or laid out), for OpenAI's `{type: "json_object"}`. */
export const JSON_OBJECT_GRAMMAR: CompiledGrammar = buildJsonObjectGrammar();

function buildJsonObjectGrammar(): CompiledGrammar {
  const { depth, maxEntries, maxKeyLength, maxStringLength } = JSON_OBJECT_LIMITS;
  const rules = new GbnfRules();
  const key = stringGrammar(rules, 0, maxKeyLength);
  const string = stringGrammar(rules, 0, maxStringLength);
  const ws = whitespace(rules);
  const scalars = [string, numberGrammar(rules, {}), booleanGrammar(rules), NULL_GRAMMAR];
  // Built from the innermost level out: containers at the deepest level hold scalars only.
  let value: Fragment = alternation(rules, `value-${depth}`, scalars);
  for (let level: number = depth; ; level--) {
    const member: Fragment = {
      element: rules.define(`member-${level}`, `${key.element} ${literal(":").element} ${ws.element} ${value.element}`),
      maxChars: key.maxChars + 1 + ws.maxChars + value.maxChars,
    };
    const object = delimitedList(rules, `object-${level}`, { open: "{", close: "}" }, member, 0, maxEntries);
    if (level === 1) return { grammar: rules.render(object), maxOutputChars: object.maxChars };
    const array = delimitedList(rules, `array-${level}`, { open: "[", close: "]" }, value, 0, maxEntries);
    value = alternation(rules, `value-${level - 1}`, [...scalars, object, array]);
  }
}
