import type { Command } from "commander";
import { run } from "../action.js";
import { leafCommand } from "../define.js";

const DIR = ["[dir]", "the policy folder", "policies"] as const;

export function definePolicy(program: Command): void {
  const policy = program.command("policy").description("validate the Cedar policy set and run its test cases");
  const load = async () => import("../commands/policy.js");
  leafCommand(policy, "check", "parse and validate the set as a gateway would load it, and print its hash")
    .argument(...DIR)
    .action(run(async () => (await load()).policyCheckCommand));
  leafCommand(policy, "test", "run <dir>/tests/*.json against the set; exit 1 on any failed case")
    .argument(...DIR)
    .action(run(async () => (await load()).policyTestCommand));
}
