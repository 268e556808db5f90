import type { Pool } from "pg";
import type { AuditEvent } from "../../audit/core/entry.js";
import { enqueueAuditEvent } from "../../audit/store/queue.js";
import type { Scope } from "../../identity/principal.js";
import type { ApiKeyRecord, ApiKeyStore, NewApiKey } from "../interface.js";
import { inTransaction } from "./transaction.js";

interface ApiKeyRow {
  id: string;
  key_hash: Buffer;
  tenant: string;
  scopes: Scope[];
  description: string | null;
  created_at: Date;
  revoked_at: Date | null;
}

const COLUMNS = "id, key_hash, tenant, scopes, description, created_at, revoked_at";
const INSERT = `INSERT INTO api_keys (id, key_hash, tenant, scopes, description) SELECT $1, $2, $3, $4, $5`;
/** Serialises first-key creation between gateways starting together; "apikeys" in ASCII. */
const FIRST_KEY_LOCK = 0x6170_696b_6579_73n;
const KEY_ID = /^[0-9a-f]{16}$/;

export class PostgresApiKeyStore implements ApiKeyStore {
  constructor(private readonly pool: Pool) {}

  async create(key: NewApiKey, describe?: (record: ApiKeyRecord) => AuditEvent): Promise<ApiKeyRecord> {
    if (describe === undefined) {
      const result = await this.pool.query<ApiKeyRow>(`${INSERT} RETURNING ${COLUMNS}`, values(key));
      return toRecord(result.rows[0]!);
    }
    return inTransaction(this.pool, async (client) => {
      const result = await client.query<ApiKeyRow>(`${INSERT} RETURNING ${COLUMNS}`, values(key));
      const record = toRecord(result.rows[0]!);
      await enqueueAuditEvent(client, describe(record));
      return record;
    });
  }

  async createFirst(key: NewApiKey): Promise<ApiKeyRecord | null> {
    return inTransaction(this.pool, async (client) => {
      await client.query(`SELECT pg_advisory_xact_lock(${FIRST_KEY_LOCK})`);
      const result = await client.query<ApiKeyRow>(
        `${INSERT} WHERE NOT EXISTS (SELECT 1 FROM api_keys WHERE revoked_at IS NULL) RETURNING ${COLUMNS}`,
        values(key),
      );
      return result.rows[0] === undefined ? null : toRecord(result.rows[0]);
    });
  }

  async get(id: string): Promise<ApiKeyRecord | null> {
    if (!KEY_ID.test(id)) return null;
    const result = await this.pool.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE id = $1`, [id]);
    return result.rows[0] === undefined ? null : toRecord(result.rows[0]);
  }

  async list(tenant?: string): Promise<ApiKeyRecord[]> {
    const result = tenant === undefined
      ? await this.pool.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM api_keys ORDER BY created_at, id`)
      : await this.pool.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE tenant = $1 ORDER BY created_at, id`, [tenant]);
    return result.rows.map(toRecord);
  }

  async revoke(id: string, options: { tenant?: string; describe?: (record: ApiKeyRecord) => AuditEvent } = {}): Promise<{ record: ApiKeyRecord; revoked: boolean } | null> {
    if (!KEY_ID.test(id)) return null;
    return inTransaction(this.pool, async (client) => {
      // Only a row still active is updated: the one revocation that happens is the one recorded.
      const updated = await client.query<ApiKeyRow>(
        `UPDATE api_keys SET revoked_at = clock_timestamp() WHERE id = $1 AND revoked_at IS NULL AND ($2::text IS NULL OR tenant = $2) RETURNING ${COLUMNS}`,
        [id, options.tenant ?? null],
      );
      if (updated.rows[0] !== undefined) {
        const record = toRecord(updated.rows[0]);
        if (options.describe !== undefined) await enqueueAuditEvent(client, options.describe(record));
        return { record, revoked: true };
      }
      const existing = await client.query<ApiKeyRow>(
        `SELECT ${COLUMNS} FROM api_keys WHERE id = $1 AND ($2::text IS NULL OR tenant = $2)`,
        [id, options.tenant ?? null],
      );
      return existing.rows[0] === undefined ? null : { record: toRecord(existing.rows[0]), revoked: false };
    });
  }

  async countActive(): Promise<number> {
    const result = await this.pool.query<{ count: number }>("SELECT count(*)::int AS count FROM api_keys WHERE revoked_at IS NULL");
    return result.rows[0]?.count ?? 0;
  }
}

function values(key: NewApiKey): unknown[] {
  return [key.id, key.hash, key.tenant, [...key.scopes], key.description];
}

function toRecord(row: ApiKeyRow): ApiKeyRecord {
  return {
    id: row.id,
    hash: row.key_hash,
    tenant: row.tenant,
    scopes: row.scopes,
    description: row.description,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}
