import { describe, expect, it } from "vitest";
import { EgressAllowlist } from "./allowlist.js";

describe("EgressAllowlist", () => {
  const list = new EgressAllowlist(["10.0.0.5:5432", "temporal.internal:7233", "[fd00::1]:443", "hooks.internal:*"]);

  it("allows exactly the listed host and port", () => {
    expect(list.allows("10.0.0.5", 5432)).toBe(true);
    expect(list.allows("10.0.0.5", 5433)).toBe(false);
    expect(list.allows("10.0.0.6", 5432)).toBe(false);
    expect(list.allows("Temporal.Internal.", 7233)).toBe(true);
    expect(list.allows("hooks.internal", 8443)).toBe(true);
    expect(list.allows("fd00:0:0:0:0:0:0:2", 443)).toBe(false);
    expect(list.allows("FD00::1", 443)).toBe(true);
  });

  it("treats an IPv4-mapped IPv6 address as its IPv4 form", () => {
    expect(list.allows("::ffff:10.0.0.5", 5432)).toBe(true);
    expect(list.allows("::ffff:10.0.0.7", 5432)).toBe(false);
  });

  it("lets only listed names be resolved", () => {
    expect(list.allowsName("temporal.internal")).toBe(true);
    expect(list.allowsName("example.com")).toBe(false);
  });

  it("allows nothing when empty", () => {
    expect(new EgressAllowlist([]).allows("127.0.0.1", 80)).toBe(false);
  });

  it("refuses malformed entries by name", () => {
    for (const bad of ["10.0.0.5", "10.0.0.5:0", "10.0.0.5:70000", "http://x:80", "a b:1", ":80"]) {
      expect(() => new EgressAllowlist([bad]), bad).toThrow(/egress allowlist entry/);
    }
  });
});
