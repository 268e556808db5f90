import type { Pool, PoolClient } from "pg";
import type { AuditEvent } from "../../audit/core/entry.js";
import { enqueueAuditEvent } from "../../audit/store/queue.js";
import { inTransaction } from "../../store/postgres/transaction.js";
import type { ModelServiceStore, NewModelService, StoredModelService } from "./interface.js";

interface ModelServiceRow {
  model_id: string;
  unloaded: boolean;
  sha256: string | null;
  updated_at: Date;
  updated_by: string;
}

const COLUMNS = "model_id, unloaded, sha256, updated_at, updated_by";

/** The model_service table (migration 0017_model_service.sql) over the pool. */
export class PostgresModelServiceStore implements ModelServiceStore {
  constructor(private readonly pool: Pool) {}

  async list(): Promise<StoredModelService[]> {
    const result = await this.pool.query<ModelServiceRow>(`SELECT ${COLUMNS} FROM model_service ORDER BY model_id`);
    return result.rows.map(toStored);
  }

  set(choice: NewModelService, describe?: (written: StoredModelService) => AuditEvent): Promise<StoredModelService> {
    const write = async (db: Pool | PoolClient) => {
      const result = await db.query<ModelServiceRow>(
        `INSERT INTO model_service (model_id, unloaded, sha256, updated_at, updated_by)
         VALUES ($1, $2, $3, clock_timestamp(), $4)
         ON CONFLICT (model_id) DO UPDATE SET unloaded = EXCLUDED.unloaded, sha256 = EXCLUDED.sha256,
           updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by
         RETURNING ${COLUMNS}`,
        [choice.modelId, choice.unloaded, choice.sha256, choice.updatedBy],
      );
      return toStored(result.rows[0]!);
    };
    if (describe === undefined) return write(this.pool);
    return inTransaction(this.pool, async (client) => {
      const written = await write(client);
      await enqueueAuditEvent(client, describe(written));
      return written;
    });
  }
}

function toStored(row: ModelServiceRow): StoredModelService {
  return { modelId: row.model_id, unloaded: row.unloaded, sha256: row.sha256, updatedAt: row.updated_at, updatedBy: row.updated_by };
}
