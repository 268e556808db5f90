import { describe, expect, it } from "vitest";
import { exemplarText } from "./exemplars/text.js";
import { adaptedInput } from "./prompt.js";

const ex = (question: string, answer: string, completion = false) => ({ executionId: question, question, answer, completion });

describe("the prompt engineer", () => {
  it("puts exemplars as user and assistant turns after the system message, and the schema into it", () => {
    const input = adaptedInput(
      { kind: "chat", messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "Topic of: rates rise" }] },
      { exemplars: [ex("Topic of: goal scored", "sports")], schema: { enum: ["a"] } },
    );
    expect(input).toEqual({
      kind: "chat",
      messages: [
        { role: "system", content: 'Be brief.\nAnswer only with JSON that satisfies this JSON Schema:\n{"enum":["a"]}' },
        { role: "user", content: "Topic of: goal scored" },
        { role: "assistant", content: "sports" },
        { role: "user", content: "Topic of: rates rise" },
      ],
    });
  });

  it("writes completion exemplars into the caller's own few-shot block, from the line where they differ", () => {
    const head = "Topics: a, b.\n\nText: x\nTopic: a\n\n";
    // A chat exemplar shares no line with the prompt: the block goes before all of it.
    const plain = adaptedInput({ kind: "completion", prompt: `${head}Text: new\nTopic:` }, { exemplars: [ex("Plain question", "plain answer")] });
    expect(plain).toEqual({ kind: "completion", prompt: `Plain question\nplain answer\n\n${head}Text: new\nTopic:` });
    const fewShot = adaptedInput({ kind: "completion", prompt: `${head}Text: new\nTopic:` }, { exemplars: [ex(`${head}Text: old one\nTopic:`, " b", true)] });
    expect(fewShot).toEqual({ kind: "completion", prompt: `${head}Text: old one\nTopic: b\n\nText: new\nTopic:` });
  });

  it("leaves the input alone when nothing is added", () => {
    const input = { kind: "chat" as const, messages: [{ role: "user" as const, content: "hi" }] };
    expect(adaptedInput(input, { exemplars: [] })).toBe(input);
  });

  it("shows an exemplar as stored, its placeholders unnumbered so nothing can be restored into them", () => {
    const text = exemplarText({
      executionId: "e", endpoint: "chat.completions", score: 1, corrected: false, classification: "internal",
      input: { kind: "chat", messages: [{ role: "system", content: "s" }, { role: "user", content: "Mail [EMAIL_1] about [NAME_12]" }] },
      output: { to: "[EMAIL_1]" },
    });
    expect(text).toEqual({ executionId: "e", question: "Mail [EMAIL] about [NAME]", answer: '{"to":"[EMAIL]"}', completion: false });
    expect(exemplarText({ executionId: "t", endpoint: "tasks", score: 1, corrected: false, classification: "internal", input: { input: { a: 1 }, instructions: null }, output: "x" })?.question).toBe('{"a":1}');
    expect(exemplarText({ executionId: "n", endpoint: "tasks", score: 1, corrected: false, classification: "internal", input: { task: "id" }, output: "x" })).toBeNull();
  });
});
