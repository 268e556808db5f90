import type { Command } from "commander";
import { run } from "../action.js";
import { leafCommand } from "../define.js";

export function defineErase(program: Command): void {
  leafCommand(program, "erase", "erase the content of a tenant's stored executions; the audit log keeps its hashes and records the erasure")
    .requiredOption("--tenant <t>", "the tenant")
    .option("--subject <s>", "executions made by this caller identity (apikey:<key id>, or a JWT's sub)")
    .option("--execution <id>", "this execution (for an asynchronous task's id, also its microtasks' executions)")
    .option("--before <date>", "executions created before YYYY-MM-DD (midnight UTC) or a date-time with its offset")
    .option("--dry-run", "count what would be erased; change nothing")
    .addHelpText("after", "\nName at least one of --subject, --execution, --before; given together, all must match.")
    .action(run(async () => (await import("../commands/erase.js")).eraseCommand));
}
