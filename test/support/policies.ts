import { cpSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A copy of the shipped policy set in a fresh folder, with the tenants and models of a test as its entities. */
export function policyDirWith(entities: { defaults: Record<string, unknown>; tenants: Record<string, unknown>; models: Record<string, unknown> }): string {
  const dir = mkdtempSync(join(tmpdir(), "atomic-policies-"));
  cpSync("policies", dir, { recursive: true });
  writeFileSync(join(dir, "entities.json"), JSON.stringify(entities));
  return dir;
}

/**
 * The shipped policy set where every tenant's data is `internal` and every model is cleared for every tenant (no
 * PII): for tests of what happens after the policy, at a classification the tests can raise or lower per request.
 */
export function internalPolicyDir(): string {
  return policyDirWith({
    defaults: { tenantClassification: "internal", model: { clearance: "secret", allowedTenants: "*", acceptsPii: false } },
    tenants: {},
    models: {},
  });
}
