import type { Command } from "commander";
import { run } from "../action.js";
import { leafCommand } from "../define.js";

export function defineBidding(program: Command): void {
  const bidding = program.command("bidding").description("the bidding router's learner");
  leafCommand(bidding, "train", "pre-train the learner on an outcome table, or on the judged outcomes of stored executions")
    .argument("[file]", "an outcome table, CSV or JSONL: prompt, model, score 0…1 or success, optional latency_ms and tokens")
    .option("--from-executions", "learn the judged outcomes (feedback) of stored executions instead of a table")
    .addHelpText("after", `
Give a table or --from-executions, not both. On a running gateway with the
embedded database, use POST /v1/admin/bidding/train instead (the gateway holds
the database); on a shared PostgreSQL a running gateway takes the trained
version over at its next save. The training is audited with the table's SHA-256.`)
    .action(run(async () => (await import("../commands/bidding.js")).trainBiddingCommand));
}
