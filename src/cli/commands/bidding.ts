import { readFileSync } from "node:fs";
import { systemEvent } from "../../audit/events.js";
import { AuditQueueWriter } from "../../audit/store/queue.js";
import { openDatabase } from "../../bootstrap/database.js";
import { BiddingRouter, HashedNgramFeaturizer, PostgresBiddingStore } from "../../bidding/index.js";
import { OutcomeTableError, trainFromTable } from "../../bidding/training.js";
import type { CommandContext } from "../context.js";
import { consoleOperator } from "../operator.js";
import { UsageError } from "../usage.js";

/** The options of `atomic bidding train`, as src/cli/definitions/bidding.ts declares them. */
export interface TrainBiddingOptions {
  fromExecutions?: boolean;
}

/**
 * `atomic bidding train`: warm start from the site's own history. The learner is loaded from the database, taught,
 * and saved as its next version (versioned with optimistic concurrency: nothing another process saved is
 * overwritten); the training is audited with the table's SHA-256, never its content.
 */
export async function trainBiddingCommand(context: CommandContext, options: TrainBiddingOptions, file: string | undefined): Promise<number> {
  const fromExecutions = options.fromExecutions === true;
  if (fromExecutions === (file !== undefined)) throw new UsageError("give either an outcome table or --from-executions");
  if (context.config.bidding.features === "embedding" && !fromExecutions) {
    context.err("bidding.features is embedding: a table's prompts would need the embedding model; train --from-executions, or on the running gateway");
    return 1;
  }
  const table = file === undefined ? null : readFileSync(file);

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
          context.err(`${file}: ${error.message}`);
          return 1;
        }
        throw error;
      }
    } else {
      const outcomes = await router.listJudgedOutcomes();
      const result = await router.trainOnOutcomes(outcomes);
      detail = { action: "train", source: "executions", rows: outcomes.length, learned: result.learned, skipped: result.skipped, version: router.state().version };
    }
    await new AuditQueueWriter(database.stores.pool).enqueue(systemEvent("bidding.changed", { actor: { subject: consoleOperator() }, detail }));
    context.out(JSON.stringify(detail));
    return 0;
  } finally {
    await database.close();
  }
}
