import { resolve } from "node:path";
import { loadPolicySet, PolicyLoadError } from "../../policy/load.js";
import { runPolicyTests } from "../../policy/policy-tests.js";
import type { CommandContext } from "../context.js";

/** `atomic policy check`: parses and validates the set as a gateway would load it, and names its hash. */
function checkSet(context: CommandContext, dir: string): number {
  const set = loadPolicySet(dir);
  for (const warning of set.warnings) context.err(`warning: ${warning}`);
  context.out(`ok ${dir}: ${set.policies.length} policies in ${set.files.filter((f) => f.endsWith(".cedar")).length} files, validated against the schema`);
  context.out(`policy set ${set.hash}`);
  return 0;
}

/** `atomic policy test`: runs <dir>/tests/*.json against the set; exit 1 on any failed case or unreadable file. */
function testSet(context: CommandContext, dir: string): number {
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

/** `atomic policy check [DIR]`. A refused policy set prints every problem and exits 1. */
export function policyCheckCommand(context: CommandContext, _options: unknown, dir: string): number {
  return refusedSet(context, resolve(dir), checkSet);
}

/** `atomic policy test [DIR]`. */
export function policyTestCommand(context: CommandContext, _options: unknown, dir: string): number {
  return refusedSet(context, resolve(dir), testSet);
}

/** Runs `command` on the set in `dir`; a set that cannot be loaded is refused with each of its problems. */
function refusedSet(context: CommandContext, dir: string, command: (context: CommandContext, dir: string) => number): number {
  try {
    return command(context, dir);
  } catch (error) {
    if (!(error instanceof PolicyLoadError)) throw error;
    context.err(`refused: ${dir}`);
    for (const problem of error.problems) context.err(`  ${problem}`);
    return 1;
  }
}
