import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { systemEvent } from "../../audit/events.js";
import { AuditQueueWriter } from "../../audit/store/queue.js";
import { openDatabase } from "../../bootstrap/database.js";
import { BiddingRouter, HashedNgramFeaturizer, PostgresBiddingStore } from "../../bidding/index.js";
import { OutcomeTableError, trainFromTable } from "../../bidding/training.js";
import type { CommandContext } from "../context.js";
import { UsageError } from "../usage.js";

const USAGE = `usage: atomic bidding train FILE              pre-train the learner on an outcome table (CSV or JSONL: prompt,
                                                model, score 0…1 or success, optional latency_ms and tokens)
       atomic bidding train --from-executions   learn the judged outcomes (feedback) of stored executions
On a running gateway with the embedded database, use POST /v1/admin/bidding/train instead (the gateway holds the
database); on a shared PostgreSQL a running gateway takes the trained version over at its next save.`;

/** Who ran the command, as the audit log names it: the operating-system account at the console. */
function operator(): string {
  return `cli:${process.env["USER"] ?? process.env["LOGNAME"] ?? "unknown"}`.replace(/[^a-zA-Z0-9._@:-]/g, "_").slice(0, 128);
}

/**
 * `atomic bidding train`: warm start from the site's own history. The learner is loaded from the database, taught,
 * and saved as its next version (versioned with optimistic concurrency: nothing another process saved is
 * overwritten); the training is audited with the table's SHA-256, never its content.
 */
export async function biddingCommand(context: CommandContext, args: string[]): Promise<number> {
  const [action, ...rest] = args;
  if (action !== "train") throw new UsageError(USAGE);
  const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { "from-executions": { type: "boolean" } } });
  const fromExecutions = values["from-executions"] === true;
  if (fromExecutions === (positionals.length === 1) || positionals.length > 1) throw new UsageError(USAGE);
  if (context.config.bidding.features === "embedding" && !fromExecutions) {
    context.err("bidding.features is embedding: a table's prompts would need the embedding model; train --from-executions, or on the running gateway");
    return 1;
  }
  const table = fromExecutions ? null : readFileSync(positionals[0]!);

  let database;
  try {
    // Beside a gateway on the embedded database: its learner takes the trained version over at its next save.
    database = await openDatabase(context.config, context.logger, { joinRunning: true });
  } catch (error) {
    context.err(`cannot open the database (${(error as Error).message}); on a running gateway, train through POST /v1/admin/bidding/train`);
    return 1;
  }
  try {
    // Without the engine the CLI cannot probe an embedding model, so it trains only a hashed learner; stored
    // features of another layout are skipped (and counted) rather than misread.
    const router = await BiddingRouter.open({ store: new PostgresBiddingStore(database.stores.pool), featurizer: new HashedNgramFeaturizer() });
    if (router.state().discardedSavedState) context.err("the saved learner state was of another policy or feature layout: training starts from an empty learner");
    let detail: Record<string, unknown>;
    if (table !== null) {
      try {
        const summary = await trainFromTable(router, table);
        detail = { action: "train", source: "table", sha256: summary.sha256, rows: summary.rows, learned: summary.learned, version: summary.version, models: summary.models };
      } catch (error) {
        if (error instanceof OutcomeTableError || error instanceof RangeError) {
          context.err(`${positionals[0]}: ${error.message}`);
          return 1;
        }
        throw error;
      }
    } else {
      const outcomes = await router.listJudgedOutcomes();
      const result = await router.trainOnOutcomes(outcomes);
      detail = { action: "train", source: "executions", rows: outcomes.length, learned: result.learned, skipped: result.skipped, version: router.state().version };
    }
    await new AuditQueueWriter(database.stores.pool).enqueue(systemEvent("bidding.changed", { actor: { subject: operator() }, detail }));
    context.out(JSON.stringify(detail));
    return 0;
  } finally {
    await database.close();
  }
}
