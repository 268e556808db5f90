import { describe, expect, it } from "vitest";
import { duplicateMember } from "./duplicate-members.js";

describe("duplicateMember", () => {
  it("finds a name given twice in one object, escapes decoded, at any depth", () => {
    expect(duplicateMember('{"alg":"none","alg":"EdDSA"}')).toBe("alg");
    expect(duplicateMember('{"a\\u006cg":1, "alg" :2}')).toBe("alg");
    expect(duplicateMember('{"x":[{"k":1},{"k":2,"k":3}]}')).toBe("k");
    expect(duplicateMember('{"x":{"y":{}},"x":0}')).toBe("x");
  });

  it("leaves the same name in different objects, and names inside strings or arrays, alone", () => {
    expect(duplicateMember('{"k":{"k":{"k":1}},"l":[{"k":1},{"k":2}]}')).toBeUndefined();
    expect(duplicateMember('{"s":"\\",\\"s\\":","t":["s","s"]}')).toBeUndefined();
    expect(duplicateMember('["a","a",{"a":1}]')).toBeUndefined();
    expect(duplicateMember("[".repeat(100_000) + "]".repeat(100_000))).toBeUndefined();
  });
});
