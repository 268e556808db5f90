import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalize } from "./canonical-json.js";

/** RFC 8785 for plain JSON values, written the obvious way: what the optimised serialiser must agree with. */
function reference(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(reference).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${reference((value as Record<string, unknown>)[key])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

describe("canonicalize", () => {
  it("agrees with a plain RFC 8785 serialisation on arbitrary JSON", () => {
    fc.assert(fc.property(fc.jsonValue(), (value) => canonicalize(value) === reference(value)), { numRuns: 2000 });
  });

  // "€" is U+20AC and "😀" the surrogate pair D83D DE00: by UTF-16 code units € comes first (by code points too here).
  it("sorts keys by UTF-16 code units, integer-like keys included", () => {
    expect(canonicalize({ b: 1, a: [true, null], "10": 0, "9": 0, "€": 1, "😀": 2, "\uffff": 3 })).toBe('{"10":0,"9":0,"a":[true,null],"b":1,"€":1,"😀":2,"\uffff":3}');
  });

  it("treats undefined, functions and toJSON as JSON.stringify does", () => {
    expect(canonicalize({ a: undefined, b: () => 1, c: [undefined, () => 1], d: new Date(0) })).toBe('{"c":[null,null],"d":"1970-01-01T00:00:00.000Z"}');
  });

  it("refuses what has no JSON form instead of writing something else", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic["self"] = { again: cyclic };
    expect(() => canonicalize(cyclic)).toThrow(/cycle/);
    expect(() => canonicalize({ n: Number.NaN })).toThrow(/JSON number/);
    expect(() => canonicalize([Infinity])).toThrow(/JSON number/);
    expect(() => canonicalize({ n: 1n })).toThrow(/bigint/);
    expect(() => canonicalize(undefined)).toThrow(/not serialisable/);
    // A repeated (not cyclic) reference is fine.
    const shared = { x: 1 };
    expect(canonicalize({ a: shared, b: [shared] })).toBe('{"a":{"x":1},"b":[{"x":1}]}');
  });
});
