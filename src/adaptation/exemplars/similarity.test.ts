import { describe, expect, it } from "vitest";
import { LexicalSimilarity } from "./similarity.js";

describe("LexicalSimilarity", () => {
  it("ranks by the words that tell requests apart, not by the instructions they all share", () => {
    const similarity = new LexicalSimilarity();
    const frame = (text: string) => `What is the topic of this news: "${text}" Choose one: politics, health, science, business, sports.`;
    const candidates = [
      { id: "1", text: frame("The striker scored twice in the cup final.") },
      { id: "2", text: frame("Shares fell after the bank reported lower profits.") },
      { id: "3", text: frame("Nurses at the hospital asked for more staff.") },
    ];
    const scores = similarity.scores(frame("The bank's profits beat what investors expected."), candidates);
    expect(scores.indexOf(Math.max(...scores))).toBe(1);
    expect(similarity.scores("anything", [])).toEqual([]);
    // A lone candidate still scores (smoothed IDF), and the same text scores highest.
    expect(similarity.scores("same words here", [{ id: "x", text: "same words here" }])[0]).toBeCloseTo(1, 5);
  });
});
