import { describe, expect, it } from "vitest";
import { canonicalize } from "../util/canonical-json.js";
import { schemaDigest } from "./schema-digest.js";

describe("canonical JSON", () => {
  it("sorts keys by UTF-16 code units at every depth and drops whitespace", () => {
    // By code point U+FB33 would precede U+1F600; by UTF-16 code unit the surrogate 0xD83D comes first.
    expect(canonicalize({ b: [3, { z: 1, a: null }], a: "x", "\uFB33": 4, "\u{1F600}": 2, "\u20ac": 1, "\r": 3 })).toBe(
      '{"\\r":3,"a":"x","b":[3,{"a":null,"z":1}],"\u20ac":1,"\u{1F600}":2,"\uFB33":4}',
    );
  });

  it("writes numbers and strings as ECMAScript JSON does (RFC 8785)", () => {
    expect(canonicalize([1e21, 1e-7, -0, 0.1, 333333333.3333333, "\u2028", "é", '"\\'])).toBe(
      '[1e+21,1e-7,0,0.1,333333333.3333333,"\u2028","é","\\"\\\\"]',
    );
  });

  it("treats undefined, functions and toJSON as JSON.stringify does", () => {
    expect(canonicalize({ gone: undefined, list: [undefined, () => 1], when: new Date(0) })).toBe(
      '{"list":[null,null],"when":"1970-01-01T00:00:00.000Z"}',
    );
  });

  it("refuses what JSON cannot represent faithfully", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic["self"] = cyclic;
    expect(() => canonicalize({ n: Number.NaN })).toThrow(TypeError);
    expect(() => canonicalize({ n: Infinity })).toThrow(TypeError);
    expect(() => canonicalize({ n: 1n })).toThrow(TypeError);
    expect(() => canonicalize(cyclic)).toThrow(/cycle/);
    expect(() => canonicalize(undefined)).toThrow(TypeError);
  });

  it("allows the same object twice when it is not its own ancestor", () => {
    const shared = { a: 1 };
    expect(canonicalize({ x: shared, y: [shared] })).toBe('{"x":{"a":1},"y":[{"a":1}]}');
  });
});

describe("schemaDigest", () => {
  it("is the SHA-256 of the canonical text, independent of key order", () => {
    expect(schemaDigest({ type: "string", maxLength: 3 })).toBe(schemaDigest({ maxLength: 3, type: "string" }));
    // sha256('{"type":"string"}')
    expect(schemaDigest({ type: "string" })).toBe("00404e686415370f1711c4d7acfa2905444d3cf23cef2e10c47d445ebe690f96");
  });
});
