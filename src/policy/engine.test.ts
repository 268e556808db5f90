import { describe, expect, it } from "vitest";
import type { PolicyData } from "./data.js";
import { CedarPolicyEngine } from "./engine.js";
import type { PolicyRequest } from "./interface.js";
import { compilePolicySet, loadPolicySet, withPolicyData } from "./load.js";
import { readFileSync } from "node:fs";

const DIGEST = "c".repeat(64);
const shipped = loadPolicySet("policies");
const data: PolicyData = {
  ...shipped.data,
  tenants: { acme: { defaultClassification: "confidential" }, ward: { minClassification: "confidential" } },
  models: {
    small: { clearance: "internal", allowedTenants: "*", acceptsPii: false },
    hr: { clearance: "secret", allowedTenants: ["acme"], acceptsPii: true },
    beta: { clearance: "secret", allowedTenants: ["beta"], acceptsPii: true },
  },
};
const engine = new CedarPolicyEngine(withPolicyData(shipped, data));
const alice = { tenant: "acme", subject: "alice", scopes: new Set(["infer", "embed"] as const) };
const catalog = ["small", "hr", "beta", "unlisted"].map((id) => ({ id, sha256: DIGEST, label: id }));

describe("CedarPolicyEngine", () => {
  it("allowedModels keeps only the models the policy allows, in catalog order, objects untouched", () => {
    expect(engine.allowedModels(alice, "infer", { classification: "internal" }, catalog).map((m) => m.id)).toEqual(["small", "hr", "unlisted"]);
    expect(engine.allowedModels(alice, "infer", { classification: "secret" }, catalog).map((m) => m.label)).toEqual(["hr"]);
    expect(engine.allowedModels(alice, "infer", { classification: "internal", piiKinds: ["email"] }, catalog).map((m) => m.id)).toEqual(["hr"]);
  });

  it("plans PII: send to cleared models, redact for others, deny where redaction does not help", () => {
    const request = (id: string, classification: "internal" | "secret"): PolicyRequest => ({ principal: alice, action: "infer", resource: { id, sha256: DIGEST }, context: { classification, piiKinds: ["email"] } });
    expect(engine.planPii(request("hr", "internal")).handling).toBe("send");
    expect(engine.planPii(request("small", "internal"))).toMatchObject({ handling: "redact", decision: { decision: "allow" } });
    expect(engine.planPii(request("small", "secret"))).toMatchObject({ handling: "deny", decision: { reasons: ["clearance", "raw-pii-only-to-pii-cleared-models"] } });
    expect(engine.planPii(request("beta", "internal"))).toMatchObject({ handling: "deny" });
  });

  it("tenant default classification comes from the data, else the site default", () => {
    expect(engine.tenantDefaultClassification("acme")).toBe("confidential");
    expect(engine.tenantDefaultClassification("other")).toBe("internal");
  });

  it("raises a declared classification below the tenant's floor to the floor, and its default with it", () => {
    expect(engine.requestClassification("ward", "public")).toBe("confidential");
    expect(engine.requestClassification("ward", "secret")).toBe("secret");
    expect(engine.requestClassification("ward", undefined)).toBe("confidential");
    expect(engine.tenantDefaultClassification("ward")).toBe("confidential");
    // Without a floor the caller's level stands, lower than the default or not.
    expect(engine.requestClassification("acme", "public")).toBe("public");
    expect(engine.requestClassification("acme", undefined)).toBe("confidential");
  });

  it("refuses policy data whose tenant default is below its floor", () => {
    const files = ["atomic.cedarschema", "default.cedar"].map((name) => ({ name, text: readFileSync(`policies/${name}`, "utf8") }));
    files.push({ name: "entities.json", text: JSON.stringify({ tenants: { ward: { defaultClassification: "internal", minClassification: "confidential" } } }) });
    expect(() => compilePolicySet(files)).toThrow(/tenants\.ward\.defaultClassification/);
  });

  it("fails closed on requests it cannot vouch for", () => {
    const bad = { principal: alice, action: "infer", resource: { id: "small", sha256: DIGEST }, context: { classification: "top-secret" } } as unknown as PolicyRequest;
    expect(engine.decide(bad)).toMatchObject({ decision: "deny", errors: [expect.stringMatching(/unknown classification/)] });
    expect(engine.decide({ ...bad, action: "delete", context: { classification: "public" } } as unknown as PolicyRequest)).toMatchObject({ decision: "deny" });
  });

  it("denies when a policy errors at evaluation, even if a permit matched (Cedar alone would skip the erroring forbid)", () => {
    const files = ["atomic.cedarschema", "default.cedar"].map((name) => ({ name, text: readFileSync(`policies/${name}`, "utf8") }));
    // Overflow is a run-time error the validator cannot rule out.
    files.push({ name: "overflow.cedar", text: "@id(\"overflow\")\nforbid (principal, action, resource) when { context.classification + 9223372036854775807 > 5 };" });
    const erroring = new CedarPolicyEngine(compilePolicySet(files));
    const decision = erroring.decide({ principal: alice, action: "infer", resource: { id: "x", sha256: DIGEST }, context: { classification: "internal" } });
    expect(decision).toMatchObject({ decision: "deny", errors: [expect.stringMatching(/^overflow: /)] });
  });

  it("a cached decision equals a fresh one, and every decision names the policy set", () => {
    const fresh = new CedarPolicyEngine(withPolicyData(shipped, data), { decisionCacheSize: 0 });
    for (const classification of ["public", "internal", "confidential", "secret"] as const) {
      for (const model of catalog) {
        const request: PolicyRequest = { principal: alice, action: "infer", resource: model, context: { classification, purpose: "p" } };
        const first = engine.decide(request);
        expect(engine.decide(request)).toBe(first);
        expect(fresh.decide(request)).toEqual(first);
        expect(first.policySetHash).toBe(shipped.hash);
      }
    }
    // The purpose is part of the request: a different one is a different cache entry, not the same answer by accident.
    const withPurpose = (purpose: string): PolicyRequest => ({ principal: alice, action: "infer", resource: catalog[0]!, context: { classification: "public", purpose } });
    expect(engine.decide(withPurpose("a"))).not.toBe(engine.decide(withPurpose("b")));
  });

  it("shares remembered decisions across a tenant's users only while no policy names a user", () => {
    expect(shipped.subjectMatters).toBe(false);
    const files = ["atomic.cedarschema", "default.cedar"].map((name) => ({ name, text: readFileSync(`policies/${name}`, "utf8") }));
    files.push({ name: "mallory.cedar", text: "@id(\"not-mallory\")\nforbid (principal == Atomic::User::\"acme/mallory\", action, resource);" });
    const set = compilePolicySet(files);
    expect(set.subjectMatters).toBe(true);
    const naming = new CedarPolicyEngine(set);
    // No entities.json here: unlisted models are public only.
    const ask = (subject: string) => naming.decide({ principal: { ...alice, subject }, action: "infer", resource: { id: "x", sha256: DIGEST }, context: { classification: "public" } });
    expect(ask("alice").decision).toBe("allow");
    expect(ask("mallory")).toMatchObject({ decision: "deny", reasons: ["not-mallory"] });
    expect(ask("alice").decision).toBe("allow");
  });
});
