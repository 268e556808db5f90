import { describe, expect, it } from "vitest";
import { jsonDepthExceeds } from "./json-depth.js";

describe("jsonDepthExceeds", () => {
  it("counts nested objects and arrays, not siblings", () => {
    expect(jsonDepthExceeds('{"a":[1,{"b":[]}]}', 4)).toBe(false);
    expect(jsonDepthExceeds('{"a":[1,{"b":[[]]}]}', 4)).toBe(true);
    expect(jsonDepthExceeds("[[],[],[],[],[]]", 2)).toBe(false);
    expect(jsonDepthExceeds('"text"', 0)).toBe(false);
  });

  it("ignores brackets inside strings, escaped quotes included", () => {
    expect(jsonDepthExceeds(`{"a":"${"[{".repeat(500)}","b":"\\"[[[[["}`, 1)).toBe(false);
  });

  it("refuses 100,000 levels in one pass", () => {
    expect(jsonDepthExceeds("[".repeat(100_000) + "]".repeat(100_000), 128)).toBe(true);
    expect(jsonDepthExceeds('{"a":'.repeat(100_000) + "1" + "}".repeat(100_000), 128)).toBe(true);
  });
});
