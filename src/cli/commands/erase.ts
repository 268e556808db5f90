import { parseArgs } from "node:util";
import { openDatabase } from "../../bootstrap/database.js";
import { ContentEraser } from "../../retention/erasure.js";
import { erasureSelector, ErasureSelectorError, type ErasureSelectorInput } from "../../retention/selector.js";
import type { ContentSelector } from "../../store/interface.js";
import type { CommandContext } from "../context.js";
import { UsageError } from "../usage.js";
import { consoleOperator } from "../operator.js";

const USAGE = `usage: atomic erase --tenant T [--subject S] [--execution ID] [--before DATE] [--dry-run]
  at least one of --subject, --execution, --before; given together they all must match
  --subject S      executions made by this caller identity (apikey:<key id>, or a JWT's sub)
  --execution ID   this execution (for an asynchronous task's id, also its microtasks' executions)
  --before DATE    executions created before YYYY-MM-DD (midnight UTC) or a date-time with its offset
  --dry-run        count what would be erased; change nothing`;

/** The checked selector, or the usage with what is wrong with it. */
function selectorOf(input: ErasureSelectorInput): ContentSelector {
  try {
    return erasureSelector(input);
  } catch (error) {
    if (error instanceof ErasureSelectorError) throw new UsageError(`${error.message}\n${USAGE}`);
    throw error;
  }
}

/**
 * `atomic erase`: erases the content of a tenant's stored executions (see src/retention), in batches, each one
 * transaction with its `content.erased` audit event. The operator at the console reaches every tenant. Gateways
 * keep running: on a database server (database.url), and on the embedded PostgreSQL, which this joins when a
 * gateway runs it. Queued events are logged by the next sequencer that runs.
 */
export async function eraseCommand(context: CommandContext, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      tenant: { type: "string" },
      subject: { type: "string" },
      execution: { type: "string" },
      before: { type: "string" },
      "dry-run": { type: "boolean", default: false },
    },
  });
  if (values.tenant === undefined || positionals.length > 0) throw new UsageError(USAGE);
  const selector = selectorOf({ tenant: values.tenant, subject: values.subject, executionId: values.execution, before: values.before });

  const database = await openDatabase(context.config, context.logger, { joinRunning: true });
  try {
    const eraser = new ContentEraser(database.stores.erasure, context.config.retention.batchSize);
    if (values["dry-run"]) {
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
