import { describe, expect, it } from "vitest";
import { HashedNgramFeaturizer } from "./hashed.js";

const TEXT = "Prove that the sum of two even integers is even. Show every step of the proof.";

describe("HashedNgramFeaturizer", () => {
  it("is deterministic: the same text gives the same vector, in any instance", () => {
    const a = new HashedNgramFeaturizer().featurize({ kind: "chat", text: TEXT });
    const b = new HashedNgramFeaturizer().featurize({ kind: "chat", text: TEXT });
    expect([...a.indices]).toEqual([...b.indices]);
    expect([...a.values]).toEqual([...b.values]);
    // Case does not matter, digits are read as 0.
    const upper = new HashedNgramFeaturizer().featurize({ kind: "chat", text: "PROVE THAT 17 apples" });
    const lower = new HashedNgramFeaturizer().featurize({ kind: "chat", text: "prove that 42 apples" });
    expect([...upper.indices].sort()).toEqual([...lower.indices].sort());
  });

  it("stays in its index space, each index once, at unit length", () => {
    const featurizer = new HashedNgramFeaturizer({ bits: 12, charRange: [3, 5] });
    const { indices, values } = featurizer.featurize({ kind: "chat", text: TEXT.repeat(20), instructions: "Answer briefly." });
    expect(new Set(indices).size).toBe(indices.length);
    for (const index of indices) expect(index >= 0 && index < 4096).toBe(true);
    const norm = Math.sqrt(values.reduce((sum, v) => sum + v * v, 0));
    expect(norm).toBeCloseTo(1, 5);
  });

  it("reads only the head of a long text", () => {
    const featurizer = new HashedNgramFeaturizer({ wordChars: 256, charChars: 128, charRange: [3, 5] });
    const head = "word ".repeat(60);
    const a = featurizer.featurize({ kind: "chat", text: head });
    const b = featurizer.featurize({ kind: "chat", text: head + "entirely different words at the end ".repeat(30_000) });
    expect([...b.indices].sort()).toEqual([...a.indices].sort());
  });

  it("names the word n-gram behind an index, for decision records", () => {
    const content = new HashedNgramFeaturizer().featurize({ kind: "chat", text: TEXT });
    const named = [...content.indices.slice(0, content.termCount)].map((index) => content.describe!(index));
    expect(named).toContain("prove that");
    expect(named).toContain("integers");
    expect(named.every((text) => typeof text === "string")).toBe(true);
  });

  it("names the text's n-grams only, not the instructions' (a system prompt is the operator's, not the request's)", () => {
    const content = new HashedNgramFeaturizer().featurize({ kind: "chat", text: "short question", instructions: "answer tersely" });
    expect(content.indices.length).toBeGreaterThan(content.termCount!);
    expect(content.describe!(content.indices[0]!)).toBe("short");
    for (const index of content.indices.slice(content.termCount!)) expect(content.describe!(index)).toBeUndefined();
  });
});
