import { describe, expect, it } from "vitest";
import { hasScope, SCOPES, type Principal, type Scope } from "./principal.js";

const principal = (...scopes: Scope[]): Principal => ({ kind: "api_key", subject: "apikey:k", tenant: "ward-7", scopes: new Set(scopes), tokenIdHash: "0" });

describe("scopes", () => {
  it("admin holds every scope of its tenant and none of the site's", () => {
    expect(SCOPES.filter((scope) => hasScope(principal("admin"), scope))).toEqual(["infer", "embed", "tasks", "admin"]);
  });

  it("operator is held only by being granted, and holds nothing else", () => {
    expect(hasScope(principal("operator"), "operator")).toBe(true);
    expect(SCOPES.filter((scope) => hasScope(principal("operator"), scope))).toEqual(["operator"]);
    expect(hasScope(principal("admin", "operator"), "operator")).toBe(true);
  });
});
