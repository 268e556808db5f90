import { describe, expect, it } from "vitest";
import { labelOf } from "./fit-jobs.js";

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
