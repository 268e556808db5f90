import { describe, expect, it } from "vitest";
import { magnitudeGrammar } from "./scalar-grammars.js";

/** The digit-range grammars use only quoted digits, classes, groups and alternation: they read as a regex. */
function asRegExp(grammar: string): RegExp {
  return new RegExp(`^(?:${grammar.replace(/"(\d)"/g, "$1").replace(/\s+/g, "")})$`);
}

describe("integer ranges in the grammar are exact", () => {
  it.each([[1, 1], [1, 9], [1, 150], [7, 1234], [10, 99], [100, 100], [19, 21], [99, 1001], [1, 9999]])("[%i, %i]", (low, high) => {
    const pattern = asRegExp(magnitudeGrammar(low, high));
    for (let n = 0; n <= Math.max(high * 2, 200); n++) {
      expect(pattern.test(String(n)), String(n)).toBe(n >= low && n <= high);
    }
    expect(pattern.test(`0${low}`)).toBe(false);
  });

  it("bounds near the 15-digit limit", () => {
    const high = 10 ** 15 - 1;
    const pattern = asRegExp(magnitudeGrammar(123_456_789, high));
    for (const n of [123_456_789, 123_456_790, 999_999_999_999_999, 10 ** 14, 5_000_000_000]) expect(pattern.test(String(n)), String(n)).toBe(true);
    for (const n of [123_456_788, 1, 99_999_999]) expect(pattern.test(String(n)), String(n)).toBe(false);
    expect(pattern.test("1000000000000000")).toBe(false);
  });
});
