import { cpSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { policyCheckCommand, policyTestCommand } from "../cli/commands/policy.js";
import type { CommandContext } from "../cli/context.js";
import { runPolicyTests } from "./policy-tests.js";

function copyOfShipped(): string {
  const dir = mkdtempSync(join(tmpdir(), "atomic-policy-tests-"));
  cpSync("policies", dir, { recursive: true });
  return dir;
}

function cli(): { context: CommandContext; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const context = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } as unknown as CommandContext;
  return { context, out, err };
}

describe("policy tests as files", () => {
  it("the shipped policies pass the shipped tests", () => {
    const report = runPolicyTests("policies");
    expect(report.fileProblems).toEqual([]);
    expect(report.results.filter((r) => !r.passed)).toEqual([]);
    expect(report.passed).toBeGreaterThanOrEqual(20);
  });

  it("a wrong expectation fails, naming the case; a malformed file is reported and the others still run", () => {
    const dir = copyOfShipped();
    writeFileSync(join(dir, "tests", "wrong.json"), JSON.stringify({
      cases: [{ name: "secret to an internal model", principal: { tenant: "acme" }, action: "infer", resource: { model: "x" }, context: { classification: "secret" }, expect: "allow" }],
    }));
    writeFileSync(join(dir, "tests", "broken.json"), JSON.stringify({ cases: [{ name: "no action", principal: { tenant: "acme" }, resource: { model: "x" }, expect: "allow" }] }));
    const report = runPolicyTests(dir);
    expect(report.results.find((r) => !r.passed)).toMatchObject({ file: "tests/wrong.json", name: "secret to an internal model", actual: "deny", reasons: ["clearance"] });
    expect(report.fileProblems).toEqual([expect.stringMatching(/^tests\/broken\.json: cases\.0\.action: /)]);
    expect(report.failed).toBe(2);
    expect(report.passed).toBeGreaterThanOrEqual(20);
  });
});

describe("atomic policy", () => {
  it("check validates and prints the hash; test prints each case and the count", async () => {
    const check = cli();
    expect(await policyCheckCommand(check.context, {}, "policies")).toBe(0);
    expect(check.out.join("\n")).toMatch(/^ok .*: 9 policies in 2 files, validated against the schema\npolicy set [0-9a-f]{64}$/);
    const test = cli();
    expect(await policyTestCommand(test.context, {}, "policies")).toBe(0);
    expect(test.out.at(-1)).toMatch(/^\d+ passed, 0 failed$/);
  });

  it("a refused set exits 1 with every problem on stderr; a failed case exits 1", async () => {
    const dir = copyOfShipped();
    writeFileSync(join(dir, "bad.cedar"), "permit (principal, action, resource) when { resource.nope };");
    const check = cli();
    expect(await policyCheckCommand(check.context, {}, dir)).toBe(1);
    expect(check.err[0]).toBe(`refused: ${dir}`);
    expect(check.err[1]).toMatch(/^ {2}bad\.cedar:1:\d+: .*nope/);

    const failing = copyOfShipped();
    writeFileSync(join(failing, "tests", "wrong.json"), JSON.stringify({ cases: [{ name: "w", principal: { tenant: "a" }, action: "infer", resource: { model: "x" }, context: { classification: "secret" }, expect: "allow" }] }));
    const test = cli();
    expect(await policyTestCommand(test.context, {}, failing)).toBe(1);
    expect(test.out).toContain("FAIL tests/wrong.json: w: expected allow, got deny by [clearance]");
  });
});
