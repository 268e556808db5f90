import { describe, expect, it } from "vitest";
import { compileJsonSchemaToGbnf } from "../../../structured/index.js";
import { answerObject, answerPrefixGrammar, labelFieldOf } from "./answer-prefix.js";

const sentiment = { type: "string", enum: ["positive", "negative"] };

describe("the label field of a structured answer", () => {
  it("is the object schema's one top-level string-enum property", () => {
    expect(labelFieldOf({ type: "object", properties: { sentiment }, required: ["sentiment"] })).toEqual({ field: "sentiment", labels: ["positive", "negative"] });
    expect(labelFieldOf({ type: "object", properties: { reason: { type: "string", maxLength: 40 }, sentiment: { enum: ["a", "b", "a"] } } })).toEqual({ field: "sentiment", labels: ["a", "b"] });
  });

  it("is none where the schema has no such property, several, or enums that are not plain strings", () => {
    expect(labelFieldOf({ type: "object", properties: { name: { type: "string" } } })).toBeNull();
    expect(labelFieldOf({ type: "object", properties: { a: sentiment, b: sentiment } })).toBeNull();
    expect(labelFieldOf({ type: "object", properties: { n: { type: "integer", enum: [1, 2] } } })).toBeNull();
    expect(labelFieldOf({ type: "object", properties: { s: { enum: ["a", 1] } } })).toBeNull();
    expect(labelFieldOf({ type: "object", properties: { s: { enum: ["only"] } } })).toBeNull();
    // Written with escapes in JSON: the label's first token would not be the label's own.
    expect(labelFieldOf({ type: "object", properties: { s: { enum: ['say "hi"', "bye"] } } })).toBeNull();
    expect(labelFieldOf({ type: "object", properties: { s: { enum: ["café", "bar"] } } })).toBeNull();
    expect(labelFieldOf({ type: "array", items: sentiment })).toBeNull();
    // Its name is kept in the audit log with the execution's adaptation record: an identifier, as task labels are.
    expect(labelFieldOf({ type: "object", properties: { "Anna's mood": sentiment } })).toBeNull();
    expect(labelFieldOf({ type: "object", properties: { "Anna's mood": sentiment, mood_2: sentiment } })?.field).toBe("mood_2");
    expect(labelFieldOf(sentiment)).toBeNull();
    expect(labelFieldOf(null)).toBeNull();
  });
});

describe("an answer's prefix up to its label field's value", () => {
  it("is the brace, the field's name and the opening quote, with the structured grammar's own layout rule", () => {
    const prefix = answerPrefixGrammar("sentiment", { sentiment: "positive", note: "x" })!;
    const ws = `("\\n" " "{0,16} | " ")?`;
    expect(prefix.grammar).toBe(`root ::= prefix\nws ::= ${ws}\nprefix ::= "{" ws "\\"sentiment\\":" ws "\\""\n`);
    // The full grammar of a schema whose first property is the field has the same layout rule between the same tokens.
    const full = compileJsonSchemaToGbnf({ type: "object", properties: { sentiment, note: { type: "string", maxLength: 3 } } }).grammar;
    expect(full).toContain(`ws ::= ${ws}`);
    expect(full).toMatch(/"\{" ws "\\"sentiment\\":" ws sentiment-enum "," ws "\\"note\\":" ws/);
    expect(full).toContain(`sentiment-enum ::= "\\"positive\\"" | "\\"negative\\""`);
    expect(prefix.maxChars).toBe(1 + 17 + '"sentiment":'.length + 17 + 1);
  });

  it("holds the values the answer has before the field, written as the grammar writes them", () => {
    const prefix = answerPrefixGrammar("sentiment", { floor: 3, title: 'A "quoted" é', sentiment: "negative" })!;
    expect(prefix.grammar).toContain(`prefix ::= "{" ws "\\"floor\\":" ws "3" "," ws "\\"title\\":" ws "\\"A \\\\\\"quoted\\\\\\" \\\\u00e9\\"" "," ws "\\"sentiment\\":" ws "\\""`);
  });

  it("is none where the answer lacks the field", () => {
    expect(answerPrefixGrammar("sentiment", { label: "x" })).toBeNull();
  });

  it("reads a stored answer as an object, from JSON or its text", () => {
    expect(answerObject({ a: 1 })).toEqual({ a: 1 });
    expect(answerObject('{"a":1}')).toEqual({ a: 1 });
    expect(answerObject("positive")).toBeNull();
    expect(answerObject("[1]")).toBeNull();
    expect(answerObject(null)).toBeNull();
  });
});
