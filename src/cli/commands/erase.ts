import { openDatabase } from "../../bootstrap/database.js";
import { ContentEraser } from "../../retention/erasure.js";
import { erasureSelector, ErasureSelectorError, type ErasureSelectorInput } from "../../retention/selector.js";
import type { ContentSelector } from "../../store/interface.js";
import type { CommandContext } from "../context.js";
import { UsageError } from "../usage.js";
import { consoleOperator } from "../operator.js";

/** The options of `atomic erase`, as src/cli/definitions/erase.ts declares them. */
export interface EraseOptions {
  tenant: string;
  subject?: string;
  execution?: string;
  before?: string;
  dryRun?: boolean;
}

/** The checked selector; what is wrong with it is a usage error. */
function selectorOf(input: ErasureSelectorInput): ContentSelector {
  try {
    return erasureSelector(input);
  } catch (error) {
    if (error instanceof ErasureSelectorError) throw new UsageError(error.message);
    throw error;
  }
}

/**
 * `atomic erase`: erases the content of a tenant's stored executions (see src/retention), in batches, each one
 * transaction with its `content.erased` audit event. The operator at the console reaches every tenant. Gateways
 * keep running: on a database server (database.url), and on the embedded PostgreSQL, which this joins when a
 * gateway runs it. Queued events are logged by the next sequencer that runs.
 */
export async function eraseCommand(context: CommandContext, options: EraseOptions): Promise<number> {
  const selector = selectorOf({ tenant: options.tenant, subject: options.subject, executionId: options.execution, before: options.before });

  const database = await openDatabase(context.config, context.logger, { joinRunning: true });
  try {
    const eraser = new ContentEraser(database.stores.erasure, context.config.retention.batchSize);
    if (options.dryRun) {
      const counts = await eraser.count(selector);
      context.out(`would erase the content of ${counts.executions} executions and ${counts.feedbackComments} feedback comments of tenant ${selector.tenant}; nothing was changed`);
      return 0;
    }
    const result = await eraser.erase({ selector, trigger: "request", actor: { subject: consoleOperator() } });
    context.out(`erased the content of ${result.executions} executions and ${result.feedbackComments} feedback comments of tenant ${selector.tenant}`);
    context.err(`erasure ${result.erasureId}: ${result.batches} batch(es), audit events ${result.auditEventIds.join(", ")}`);
    return 0;
  } finally {
    await database.close();
  }
}
