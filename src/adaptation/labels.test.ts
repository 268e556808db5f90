import { getLlama } from "node-llama-cpp";
import { describe, expect, it } from "vitest";
import { labelGrammar } from "./labels.js";

describe("labelGrammar", () => {
  it("is one alternative per label, each a GBNF literal", () => {
    expect(labelGrammar(["sports", "politics"])).toBe('root ::= "sports" | "politics"');
    expect(labelGrammar(['say "hi"', "a\\b", "tab\there"])).toBe('root ::= "say \\"hi\\"" | "a\\\\b" | "tab\\x09here"');
  });

  it("is a grammar llama.cpp compiles, and it holds text to the labels", async () => {
    const llama = await getLlama({ build: "never", gpu: false, skipDownload: true });
    const grammar = await llama.createGrammar({ grammar: labelGrammar(['say "hi"', "café", "a\\b", "tab\there"]) });
    expect(grammar.grammar).toContain("café");
  });
});
