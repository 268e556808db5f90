import type pg from "pg";
import { GroupCommit } from "../../store/postgres/group-commit.js";
import { canonicalize } from "../../util/canonical-json.js";
import { UUID_PATTERN } from "../../util/uuidv7.js";
import { eventProblem, type AuditEvent } from "../core/entry.js";

/**
 * Queues an event for the sequencer. Pass the client of the transaction that does the work the event records:
 * the event then commits or rolls back with that work, and a request acknowledged after the commit always has
 * its event in the log eventually.
 *
 * An event id is logged at most once: enqueuing an id again (a retry after an ambiguous commit) is a no-op here,
 * and the sequencer drops a queued id that is already in the log.
 */
export async function enqueueAuditEvent(db: Pick<pg.PoolClient | pg.Pool, "query">, event: AuditEvent): Promise<void> {
  const text = queuedEventText(event);
  await db.query("INSERT INTO audit_queue (event_id, event) VALUES ($1, $2) ON CONFLICT (event_id) DO NOTHING", [
    event.id,
    text,
  ]);
}

/** Whether every event committed before the call has been sequenced (or there were none). */
export async function queueIsEmpty(db: Pick<pg.Pool, "query">): Promise<boolean> {
  const result = await db.query<{ pending: boolean }>("SELECT EXISTS (SELECT 1 FROM audit_queue) AS pending");
  return result.rows[0]?.pending !== true;
}

/**
 * The canonical JSON the queue holds, refused (TypeError) unless the sequencer can make it a leaf: the parsed text
 * passes the core's event checks, and canonical JSON re-encodes to itself, so encodeLeaf will accept it. One bad
 * event in the queue would otherwise stop every batch behind it.
 */
export function queuedEventText(event: AuditEvent): string {
  // PostgreSQL's uuid type would also take braces or no hyphens, and the log would then disagree with its leaf.
  if (!UUID_PATTERN.test(event.id)) throw new TypeError(`audit event id ${String(event.id)} is not a UUID`);
  const text = canonicalize(event);
  // Checked on what the sequencer will parse back, not on the object (a toJSON could drop a required field).
  const problem = eventProblem(JSON.parse(text));
  if (problem !== undefined) throw new TypeError(`audit event ${event.id} refused: ${problem}`);
  return text;
}

/**
 * Queues events from many concurrent writers with group commit: one multi-row INSERT and one commit per batch,
 * each writer resolved once the commit holding its event is durable. For events written outside a request's
 * own statement (model lifecycle, startup), and the shape of what the request path does.
 */
export class AuditQueueWriter {
  private readonly committer: GroupCommit<[string, string]>;

  constructor(db: Pick<pg.Pool, "query">) {
    this.committer = new GroupCommit(async (batch) => {
      await db.query(
        "INSERT INTO audit_queue (event_id, event) SELECT * FROM unnest($1::uuid[], $2::text[]) ON CONFLICT (event_id) DO NOTHING",
        [batch.map(([id]) => id), batch.map(([, text]) => text)],
      );
    });
  }

  enqueue(event: AuditEvent): Promise<void> {
    return this.committer.submit([event.id, queuedEventText(event)]);
  }
}
