import { describe, expect, it } from "vitest";
import { comparable, normalise } from "./shadow.js";

describe("what a shadow answer is compared with", () => {
  it("compares structured values whatever their key order, and short answers whatever their case, spacing and full stop", () => {
    expect(comparable({ value: { b: 1, a: [true, "x"] } })).toBe(comparable({ value: { a: [true, "x"], b: 1 } }));
    expect(comparable({ value: { a: 1 } })).not.toBe(comparable({ value: { a: 2 } }));
    expect(comparable({ text: "  Paris.\n" })).toBe(normalise("paris"));
    expect(normalise("Ｐａｒｉｓ  IS")).toBe("paris is");
    expect(normalise("Positive!")).toBe(normalise("positive"));
    expect(normalise("positive")).not.toBe(normalise("negative"));
  });

  it("leaves prose and empty answers uncompared: two models never word a paragraph alike", () => {
    expect(comparable({ text: "x".repeat(64) })).toBe("x".repeat(64));
    expect(comparable({ text: "x".repeat(65) })).toBeNull();
    expect(comparable({ text: "The warehouse holds three kinds of stock, each kept on its own floor." })).toBeNull();
    expect(comparable({ text: " \n " })).toBeNull();
  });
});
