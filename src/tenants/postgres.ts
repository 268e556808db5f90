import type { Pool, PoolClient } from "pg";
import type { AuditEvent } from "../audit/core/entry.js";
import { enqueueAuditEvent } from "../audit/store/queue.js";
import { CriteriaSchema } from "../bidding/criteria.js";
import { TenantLimitsSchema, TenantRetentionSchema } from "../config/schema.js";
import { inTransaction } from "../store/postgres/transaction.js";
import { InvalidTenantSettingsError, type NewTenantSettings, type StoredTenantSettings, type TenantSettingsStore } from "./interface.js";

interface TenantSettingsRow {
  tenant: string;
  limits: unknown;
  bidding_criteria: unknown;
  retention: unknown;
  updated_at: Date;
  updated_by: string;
}

const COLUMNS = "tenant, limits, bidding_criteria, retention, updated_at, updated_by";

/** The tenant_settings table (migration 0013_tenant_settings.sql) over the gateway's pool. */
export class PostgresTenantSettingsStore implements TenantSettingsStore {
  constructor(private readonly pool: Pool) {}

  async list(): Promise<StoredTenantSettings[]> {
    const result = await this.pool.query<TenantSettingsRow>(`SELECT ${COLUMNS} FROM tenant_settings ORDER BY tenant`);
    return result.rows.map(toSettings);
  }

  upsert(settings: NewTenantSettings, describe?: (written: StoredTenantSettings) => AuditEvent): Promise<StoredTenantSettings> {
    return this.audited(describe, async (db) => {
      const result = await db.query<TenantSettingsRow>(
        `INSERT INTO tenant_settings (tenant, limits, bidding_criteria, retention, updated_at, updated_by)
         VALUES ($1, $2::jsonb, $3::jsonb, $4::jsonb, clock_timestamp(), $5)
         ON CONFLICT (tenant) DO UPDATE SET limits = EXCLUDED.limits, bidding_criteria = EXCLUDED.bidding_criteria,
           retention = EXCLUDED.retention, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by
         RETURNING ${COLUMNS}`,
        [settings.tenant, jsonOrNull(settings.limits), jsonOrNull(settings.biddingCriteria), jsonOrNull(settings.retention), settings.updatedBy],
      );
      return toSettings(result.rows[0]!);
    });
  }

  delete(tenant: string, describe?: (removed: StoredTenantSettings) => AuditEvent): Promise<StoredTenantSettings | null> {
    return this.audited(describe, async (db) => {
      const result = await db.query<TenantSettingsRow>(`DELETE FROM tenant_settings WHERE tenant = $1 RETURNING ${COLUMNS}`, [tenant]);
      return result.rows[0] === undefined ? null : toSettings(result.rows[0]);
    });
  }

  /** Runs a write and, with `describe`, queues its audit event in the same transaction (none for a null result). */
  private audited<T extends StoredTenantSettings | null>(describe: ((settings: StoredTenantSettings) => AuditEvent) | undefined, write: (db: Pool | PoolClient) => Promise<T>): Promise<T> {
    if (describe === undefined) return write(this.pool);
    return inTransaction(this.pool, async (client) => {
      const written = await write(client);
      if (written !== null) await enqueueAuditEvent(client, describe(written));
      return written;
    });
  }
}

function jsonOrNull(value: object | null): string | null {
  return value === null ? null : JSON.stringify(value);
}

/**
 * Rows are checked as the configuration file is, so that a row edited by hand into something the file would refuse
 * stops the gateway at start, naming the tenant, rather than being applied half-understood (a running gateway keeps
 * what it had: ./settings.ts).
 */
function toSettings(row: TenantSettingsRow): StoredTenantSettings {
  const limits = row.limits === null ? null : TenantLimitsSchema.safeParse(row.limits);
  const criteria = row.bidding_criteria === null ? null : CriteriaSchema.safeParse(row.bidding_criteria);
  const retention = row.retention === null ? null : TenantRetentionSchema.safeParse(row.retention);
  for (const [column, parsed] of [["limits", limits], ["bidding_criteria", criteria], ["retention", retention]] as const) {
    if (parsed !== null && !parsed.success) {
      throw new InvalidTenantSettingsError(
        row.tenant,
        JSON.stringify([row.limits, row.bidding_criteria, row.retention]),
        `tenant_settings of tenant ${row.tenant}: ${column} is invalid: ${parsed.error.issues.map((issue) => `${issue.path.join(".") || "(whole)"} ${issue.message}`).join("; ")}`,
      );
    }
  }
  return {
    tenant: row.tenant,
    limits: limits?.data ?? null,
    biddingCriteria: criteria?.data ?? null,
    retention: retention?.data ?? null,
    updatedAt: row.updated_at,
    updatedBy: row.updated_by,
  };
}
