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
 * The canonical JSON the queue holds, refused (TypeError) unless the sequencer can make it a leaf: the event's own
 * fields pass the core's event checks, and canonical JSON is what encodeLeafFromText accepts. One bad event in the
 * queue would otherwise stop every batch behind it.
 */
export function queuedEventText(event: AuditEvent): string {
  // PostgreSQL's uuid type would also take braces or no hyphens, and the log would then disagree with its leaf.
  if (!UUID_PATTERN.test(event.id)) throw new TypeError(`audit event id ${String(event.id)} is not a UUID`);
  // Checked on the object rather than on the text parsed back (a cost on every request): only a toJSON on the event
  // itself, or required fields it does not own (getters, a prototype), could make the text lack what is checked here.
  if (typeof (event as { toJSON?: unknown }).toJSON === "function") throw new TypeError(`audit event ${event.id} refused: it has a toJSON`);
  for (const field of REQUIRED_FIELDS) {
    if (!Object.hasOwn(event, field)) throw new TypeError(`audit event ${event.id} refused: no own "${field}"`);
  }
  const problem = eventProblem(event);
  if (problem !== undefined) throw new TypeError(`audit event ${event.id} refused: ${problem}`);
  return canonicalize(event);
}

const REQUIRED_FIELDS = ["v", "id", "time", "kind"] as const;

/**
 * Queues events from many concurrent writers with group commit: one multi-row INSERT and one commit per batch,
 * each writer resolved once the commit holding its event is durable. For events written outside a request's
 * own statement (model lifecycle, startup), and the shape of what the request path does.
 */
export class AuditQueueWriter {
  private readonly committer: GroupCommit<[string, string]>;

  constructor(db: Pick<pg.Pool, "query">) {
    this.committer = new GroupCommit(async (batch) => {
      // Named, so that each connection parses and plans it once rather than on every commit of the hot path.
      await db.query({
        name: "atomic-audit-enqueue",
        text: "INSERT INTO audit_queue (event_id, event) SELECT * FROM unnest($1::uuid[], $2::text[]) ON CONFLICT (event_id) DO NOTHING",
        values: [batch.map(([id]) => id), batch.map(([, text]) => text)],
      });
    });
  }

  enqueue(event: AuditEvent): Promise<void> {
    return this.committer.submit([event.id, queuedEventText(event)]);
  }
}
