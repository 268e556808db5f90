import { describe, expect, it } from "vitest";
import { fitInputOf, labelOf } from "./fit-jobs.js";

describe("reading a rated answer as a label", () => {
  it("takes a short single line as it is, and nothing longer, empty or on several lines", () => {
    expect(labelOf(" positive ")).toBe("positive");
    expect(labelOf("")).toBeNull();
    expect(labelOf("a\nb")).toBeNull();
    expect(labelOf("x".repeat(65))).toBeNull();
    expect(labelOf({ label: "x" })).toBeNull();
  });

  it("reads one field of a structured answer, stored as JSON or as its text", () => {
    expect(labelOf({ label: "spam", score: 1 }, "label")).toBe("spam");
    expect(labelOf('{"label":"ham"}', "label")).toBe("ham");
    expect(labelOf({ other: "spam" }, "label")).toBeNull();
    // A rater's correction of the field alone.
    expect(labelOf("ham", "label")).toBe("ham");
    expect(labelOf("Ham.", "label", ["spam", "ham"])).toBe("ham");
    expect(labelOf("not a label", "label", ["spam", "ham"])).toBeNull();
    expect(labelOf(["spam"], "label")).toBeNull();
  });

  it("given the labels, matches an answer up to case, quotes and a final full stop, and refuses any other", () => {
    const labels = ["sports", "business"];
    expect(labelOf("Sports.", undefined, labels)).toBe("sports");
    expect(labelOf('"business"', undefined, labels)).toBe("business");
    expect(labelOf("The topic is sports.", undefined, labels)).toBeNull();
    expect(labelOf("science", undefined, labels)).toBeNull();
  });
});

describe("the prompt a fit rebuilds from a stored execution", () => {
  const schema = { type: "object", properties: { label: { enum: ["a", "b"] } } };
  const shown = `Answer only with JSON that satisfies this JSON Schema:\n${JSON.stringify(schema)}`;

  it("rebuilds a synchronous task as the chat it ran as: instructions (or the default) and the schema shown, then the work", () => {
    expect(fitInputOf({ endpoint: "tasks", input: { input: "red cat", instructions: "Label it.", schema }, grammar: "json_schema" })).toEqual({
      kind: "chat",
      messages: [{ role: "system", content: `Label it.\n${shown}` }, { role: "user", content: "red cat" }],
    });
    // A registered schema shown unchanged is read from the registry; an object input is its JSON text.
    expect(fitInputOf({ endpoint: "tasks", input: { input: { text: "red" }, instructions: null }, grammar: "json_schema", registeredSchema: schema })).toEqual({
      kind: "chat",
      messages: [{ role: "system", content: `Complete the task described by the user.\n${shown}` }, { role: "user", content: '{"text":"red"}' }],
    });
    expect(fitInputOf({ endpoint: "tasks", input: { input: "red", instructions: "Label it." }, grammar: null })).toEqual({
      kind: "chat",
      messages: [{ role: "system", content: "Label it." }, { role: "user", content: "red" }],
    });
  });

  it("skips a task whose prompt it cannot rebuild (a structured answer with no schema known), and reads a microtask's as stored", () => {
    expect(fitInputOf({ endpoint: "tasks", input: { input: "red", instructions: null }, grammar: "json_schema" })).toBeNull();
    // An asynchronous task's microtask keeps the chat it ran as (its schema shown in it, where it has one).
    const microtask = { task: "t", microtask: "m1", attempt: 1, input: { kind: "chat", messages: [{ role: "user", content: "red" }] } };
    expect(fitInputOf({ endpoint: "tasks", input: microtask, grammar: null })).toEqual({ kind: "chat", messages: [{ role: "user", content: "red" }] });
    expect(fitInputOf({ endpoint: "tasks", input: microtask, grammar: "json_schema" })).toEqual({ kind: "chat", messages: [{ role: "user", content: "red" }] });
    expect(fitInputOf({ endpoint: "tasks", input: { ...microtask, input: { kind: "chat" } }, grammar: null })).toBeNull();
    expect(fitInputOf({ endpoint: "chat.completions", input: { kind: "chat", messages: [{ role: "user", content: "red" }] } })).toEqual({ kind: "chat", messages: [{ role: "user", content: "red" }] });
  });
});
