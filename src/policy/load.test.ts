import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { compilePolicySet, loadPolicySet, PolicyLoadError } from "./load.js";
import { PolicyStore } from "./store.js";

const SHIPPED = "policies";
const alice = { tenant: "acme", subject: "alice", scopes: new Set(["infer"]) };
const model = { id: "m", sha256: "a".repeat(64) };

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "atomic-policies-"));
  cpSync(SHIPPED, dir, { recursive: true });
});

function refusal(fn: () => unknown): PolicyLoadError {
  try {
    fn();
  } catch (error) {
    if (error instanceof PolicyLoadError) return error;
    throw error;
  }
  throw new Error("expected the policy set to be refused");
}

describe("loadPolicySet", () => {
  it("loads the shipped set: policies named by their @id, validated, hashed", () => {
    const set = loadPolicySet(SHIPPED);
    expect(set.policies.map((p) => p.id)).toContain("clearance");
    expect(set.policies.find((p) => p.id === "clearance")).toMatchObject({ file: "default.cedar", effect: "forbid" });
    expect(set.policies.find((p) => p.id === "no-raw-pii-for-training")).toMatchObject({ file: "purpose.cedar", effect: "forbid" });
    expect(set.files).toEqual(["atomic.cedarschema", "default.cedar", "entities.json", "purpose.cedar"]);
    expect(set.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(set.warnings).toEqual([]);
  });

  it("refuses a policy file that does not parse, naming the file and line", () => {
    writeFileSync(join(dir, "extra.cedar"), "// a site rule\npermit (principal, action, resource)\nwhen { context.classification <= };\n");
    const error = refusal(() => loadPolicySet(dir));
    expect(error.problems[0]).toMatch(/^extra\.cedar:3:\d+: /);
  });

  it("refuses a policy that fails schema validation (misspelt attribute), naming file, line and policy", () => {
    writeFileSync(join(dir, "extra.cedar"), "\n\n@id(\"typo\")\npermit (principal, action, resource)\nwhen { resource.clearence >= context.classification };\n");
    const error = refusal(() => loadPolicySet(dir));
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatch(/^extra\.cedar:5:\d+: .*clearence.*\[policy typo\]/);
  });

  it("refuses a policy comparing values of different types (strict validation)", () => {
    writeFileSync(join(dir, "extra.cedar"), "permit (principal, action, resource) when { context.purpose > 2 };\n");
    expect(refusal(() => loadPolicySet(dir)).problems[0]).toMatch(/^extra\.cedar:1:/);
  });

  it("refuses duplicate policy ids across files, a broken schema, bad data, templates", () => {
    writeFileSync(join(dir, "extra.cedar"), "@id(\"clearance\")\npermit (principal, action, resource);\n");
    expect(refusal(() => loadPolicySet(dir)).problems[0]).toMatch(/extra\.cedar:1: policy id "clearance" is already used at default\.cedar:\d+/);

    const files = [{ name: "atomic.cedarschema", text: readFileSync(join(SHIPPED, "atomic.cedarschema"), "utf8") }, { name: "default.cedar", text: readFileSync(join(SHIPPED, "default.cedar"), "utf8") }];
    expect(refusal(() => compilePolicySet([{ name: "atomic.cedarschema", text: "namespace Atomic { entity Model = { clearance: Lng }; }" }])).problems[0]).toMatch(/^atomic\.cedarschema:1:\d+: .*Lng/);
    expect(refusal(() => compilePolicySet(files.slice(1))).problems[0]).toMatch(/exactly one schema/);
    expect(refusal(() => compilePolicySet([...files, { name: "entities.json", text: "{ \"models\": " }])).problems[0]).toMatch(/^entities\.json: not valid JSON/);
    expect(refusal(() => compilePolicySet([...files, { name: "entities.json", text: JSON.stringify({ models: { m: { clearance: "top", allowedTenants: "*" } } }) }])).problems[0]).toMatch(/^entities\.json: models\.m\.clearance/);
    expect(refusal(() => compilePolicySet([...files, { name: "t.cedar", text: "permit (principal == ?principal, action, resource);" }])).problems[0]).toMatch(/^t\.cedar: .*template/);
  });

  it("hashes content, not form: CRLF line endings and JSON key order do not change it; a changed rule does", () => {
    const before = loadPolicySet(dir).hash;
    const policy = readFileSync(join(dir, "default.cedar"), "utf8");
    writeFileSync(join(dir, "default.cedar"), policy.replace(/\n/g, "\r\n"));
    const data = JSON.parse(readFileSync(join(dir, "entities.json"), "utf8"));
    writeFileSync(join(dir, "entities.json"), JSON.stringify(Object.fromEntries(Object.entries(data).reverse())));
    expect(loadPolicySet(dir).hash).toBe(before);
    writeFileSync(join(dir, "default.cedar"), policy.replace("context.classification <= 1", "context.classification <= 2"));
    expect(loadPolicySet(dir).hash).not.toBe(before);
  });
});

describe("PolicyStore.reload", () => {
  it("keeps the old set when the new one is refused, and swaps to a valid one", () => {
    const store = PolicyStore.open(dir);
    const original = store.policySetHash;
    const request = { principal: alice, action: "infer" as const, resource: model, context: { classification: "internal" as const } };
    expect(store.decide(request).decision).toBe("allow");

    // A malformed file and a schema failure: refused, the old set still decides.
    writeFileSync(join(dir, "broken.cedar"), "forbid (principal, action, resource) when {");
    const broken = store.reload();
    expect(broken.ok).toBe(false);
    if (!broken.ok) expect(broken.error.problems[0]).toMatch(/^broken\.cedar:/);
    writeFileSync(join(dir, "broken.cedar"), "forbid (principal, action, resource) when { resource.owner == \"x\" };");
    expect(store.reload()).toMatchObject({ ok: false, policySetHash: original });
    expect(store.policySetHash).toBe(original);
    expect(store.decide(request)).toMatchObject({ decision: "allow", policySetHash: original });

    // A valid change takes effect at once and is named by the new hash.
    writeFileSync(join(dir, "broken.cedar"), "@id(\"no-acme\")\nforbid (principal, action, resource) when { principal.tenant == \"acme\" };");
    const swapped = store.reload();
    expect(swapped).toMatchObject({ ok: true, changed: true, previousHash: original });
    expect(store.decide(request)).toMatchObject({ decision: "deny", reasons: ["no-acme"], policySetHash: store.policySetHash });
    expect(store.policySetHash).not.toBe(original);
    expect(store.reload()).toMatchObject({ ok: true, changed: false });
  });

  it("refuses to open on a bad set", () => {
    writeFileSync(join(dir, "atomic.cedarschema"), "namespace Atomic {");
    expect(() => PolicyStore.open(dir)).toThrow(PolicyLoadError);
  });
});
