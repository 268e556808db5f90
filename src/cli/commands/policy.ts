import { resolve } from "node:path";
import { loadPolicySet, PolicyLoadError } from "../../policy/load.js";
import { runPolicyTests } from "../../policy/policy-tests.js";
import type { CommandContext } from "../context.js";
import { UsageError } from "../usage.js";

const USAGE = "usage: atomic policy <check|test> [DIR]  (DIR: the policy folder, default ./policies)";
const DEFAULT_DIR = "policies";

/** `atomic policy check`: parses and validates the set as a gateway would load it, and names its hash. */
function checkCommand(context: CommandContext, dir: string): number {
  const set = loadPolicySet(dir);
  for (const warning of set.warnings) context.err(`warning: ${warning}`);
  context.out(`ok ${dir}: ${set.policies.length} policies in ${set.files.filter((f) => f.endsWith(".cedar")).length} files, validated against the schema`);
  context.out(`policy set ${set.hash}`);
  return 0;
}

/** `atomic policy test`: runs <dir>/tests/*.json against the set; exit 1 on any failed case or unreadable file. */
function testCommand(context: CommandContext, dir: string): number {
  const report = runPolicyTests(dir);
  for (const problem of report.fileProblems) context.err(`FAIL ${problem}`);
  for (const result of report.results) {
    if (result.passed) {
      context.out(`ok   ${result.file}: ${result.name}`);
      continue;
    }
    const reasons = result.expectedReasons ? ` by [${result.expectedReasons.join(", ")}]` : "";
    const errors = result.errors.length > 0 ? `; errors: ${result.errors.join("; ")}` : "";
    context.out(`FAIL ${result.file}: ${result.name}: expected ${result.expected}${reasons}, got ${result.actual} by [${result.reasons.join(", ")}]${errors}`);
  }
  context.out(`policy set ${report.policySetHash}`);
  context.out(`${report.passed} passed, ${report.failed} failed`);
  return report.failed === 0 ? 0 : 1;
}

/** `atomic policy check|test [DIR]`. A refused policy set prints every problem and exits 1. */
export async function policyCommand(context: CommandContext, args: string[]): Promise<number> {
  if (args.length < 1 || args.length > 2) throw new UsageError(USAGE);
  const dir = resolve(args[1] ?? DEFAULT_DIR);
  try {
    switch (args[0]) {
      case "check": return checkCommand(context, dir);
      case "test": return testCommand(context, dir);
      default: throw new UsageError(USAGE);
    }
  } catch (error) {
    if (!(error instanceof PolicyLoadError)) throw error;
    context.err(`refused: ${dir}`);
    for (const problem of error.problems) context.err(`  ${problem}`);
    return 1;
  }
}
