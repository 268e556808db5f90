import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { CLASSIFICATIONS } from "./classification.js";
import { PolicyDataSchema, type PolicyData } from "./data.js";
import { CedarPolicyEngine } from "./engine.js";
import { POLICY_ACTIONS, type PolicyRequest } from "./interface.js";
import { loadPolicySet, withPolicyData, type LoadedPolicySet } from "./load.js";

export const POLICY_TESTS_DIR = "tests";
const UNKNOWN_DIGEST = "0".repeat(64);

/**
 * A policy test file (policies/tests/*.json): cases run against the policy set in the folder above. `models` and
 * `tenants` add to (or replace entries of) entities.json for this file's cases only, so tests can describe the
 * models they need without listing them in the live data.
 */
const TestCase = z.strictObject({
  name: z.string().min(1),
  principal: z.strictObject({
    tenant: z.string().min(1),
    subject: z.string().min(1).default("tester"),
    scopes: z.array(z.string()).default(["infer", "embed"]),
  }),
  action: z.enum(POLICY_ACTIONS),
  resource: z.strictObject({
    model: z.string().min(1),
    /** Defaults to the model's approvedDigest, else a digest no model was approved as. */
    digest: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  }),
  context: z.strictObject({
    /** Absent: the tenant's default classification, as the gateway would use. */
    classification: z.enum(CLASSIFICATIONS).optional(),
    piiKinds: z.array(z.string()).default([]),
    piiFound: z.boolean().optional(),
    purpose: z.string().default(""),
  }).prefault({}),
  expect: z.enum(["allow", "deny"]),
  /** When given, the deciding policy ids must be exactly these (order aside). */
  reasons: z.array(z.string()).optional(),
});

const TestFile = z.strictObject({
  description: z.string().optional(),
  models: PolicyDataSchema.shape.models.optional(),
  tenants: PolicyDataSchema.shape.tenants.optional(),
  cases: z.array(TestCase).min(1),
});

export interface PolicyTestResult {
  file: string;
  name: string;
  passed: boolean;
  expected: "allow" | "deny";
  actual: "allow" | "deny";
  reasons: readonly string[];
  expectedReasons?: readonly string[];
  errors: readonly string[];
}

export interface PolicyTestReport {
  policySetHash: string;
  results: PolicyTestResult[];
  /** Test files that could not be read; each counts as a failure. */
  fileProblems: string[];
  passed: number;
  failed: number;
}

/**
 * Runs every test file in <dir>/tests against the policy set in <dir>. Throws PolicyLoadError when the set itself
 * is refused (nothing could be tested); a malformed test file is reported and the others still run.
 */
export function runPolicyTests(dir: string, set: LoadedPolicySet = loadPolicySet(dir)): PolicyTestReport {
  const testsDir = join(dir, POLICY_TESTS_DIR);
  const files = existsSync(testsDir) ? readdirSync(testsDir).filter((name) => name.endsWith(".json")).sort() : [];
  const results: PolicyTestResult[] = [];
  const fileProblems: string[] = [];
  for (const name of files) {
    const label = `${POLICY_TESTS_DIR}/${name}`;
    const file = parseTestFile(label, readFileSync(join(testsDir, name), "utf8"), fileProblems);
    if (file) results.push(...runFile(label, file, set));
  }
  if (files.length === 0) fileProblems.push(`${testsDir}: no test files (*.json)`);
  const passed = results.filter((r) => r.passed).length;
  return { policySetHash: set.hash, results, fileProblems, passed, failed: results.length - passed + fileProblems.length };
}

function parseTestFile(label: string, text: string, problems: string[]): z.infer<typeof TestFile> | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    problems.push(`${label}: not valid JSON: ${(error as Error).message}`);
    return undefined;
  }
  const parsed = TestFile.safeParse(raw);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) problems.push(`${label}: ${issue.path.join(".") || "(root)"}: ${issue.message}`);
  return undefined;
}

function runFile(label: string, file: z.infer<typeof TestFile>, set: LoadedPolicySet): PolicyTestResult[] {
  const data: PolicyData = {
    ...set.data,
    models: { ...set.data.models, ...file.models },
    tenants: { ...set.data.tenants, ...file.tenants },
  };
  const engine = new CedarPolicyEngine(withPolicyData(set, data), { decisionCacheSize: 0 });
  return file.cases.map((testCase) => {
    const principal = { ...testCase.principal, scopes: new Set(testCase.principal.scopes) };
    const request: PolicyRequest = {
      principal,
      action: testCase.action,
      resource: { id: testCase.resource.model, sha256: testCase.resource.digest ?? data.models[testCase.resource.model]?.approvedDigest ?? UNKNOWN_DIGEST },
      context: {
        ...testCase.context,
        classification: engine.requestClassification(principal.tenant, testCase.context.classification),
      },
    };
    const decision = engine.decide(request);
    const reasonsMatch = testCase.reasons === undefined || sameSet(testCase.reasons, decision.reasons);
    return {
      file: label,
      name: testCase.name,
      passed: decision.decision === testCase.expect && reasonsMatch,
      expected: testCase.expect,
      actual: decision.decision,
      reasons: decision.reasons,
      ...(testCase.reasons ? { expectedReasons: testCase.reasons } : {}),
      errors: decision.errors,
    };
  });
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().every((value, i) => value === [...b].sort()[i]);
}
