import type { Pool } from "pg";
import type { AuditEvent } from "../../audit/core/entry.js";
import { enqueueAuditEvent } from "../../audit/store/queue.js";
import { inTransaction } from "../../store/postgres/transaction.js";
import type { PolicyReload, PolicyReloadLog } from "./interface.js";

interface Row {
  id: string;
  requested_at: Date;
  requested_by: string;
  policy_set_hash: string;
}

const COLUMNS = "id, requested_at, requested_by, policy_set_hash";

/** The policy_reloads table (migration 0018_policy_reloads.sql) over the pool. */
export class PostgresPolicyReloadLog implements PolicyReloadLog {
  constructor(private readonly pool: Pool) {}

  async latest(): Promise<PolicyReload | null> {
    const result = await this.pool.query<Row>(`SELECT ${COLUMNS} FROM policy_reloads ORDER BY id DESC LIMIT 1`);
    return result.rows[0] === undefined ? null : toReload(result.rows[0]);
  }

  announce(reload: Pick<PolicyReload, "requestedBy" | "policySetHash">, describe: (written: PolicyReload) => AuditEvent): Promise<PolicyReload> {
    return inTransaction(this.pool, async (client) => {
      const result = await client.query<Row>(
        `INSERT INTO policy_reloads (requested_by, policy_set_hash) VALUES ($1, $2) RETURNING ${COLUMNS}`,
        [reload.requestedBy, reload.policySetHash],
      );
      const written = toReload(result.rows[0]!);
      await enqueueAuditEvent(client, describe(written));
      return written;
    });
  }
}

function toReload(row: Row): PolicyReload {
  return { id: Number(row.id), requestedAt: row.requested_at, requestedBy: row.requested_by, policySetHash: row.policy_set_hash };
}
