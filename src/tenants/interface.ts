import type { AuditEvent } from "../audit/core/entry.js";
import type { CriteriaInput } from "../bidding/criteria.js";
import type { TenantLimitsInput, TenantRetention } from "../config/schema.js";

/**
 * What an admin set for a tenant over HTTP, over the configuration file's entries for it: the limit fields it set
 * (each replaces the file's), and bidding criteria that replace the file's criteria for the tenant. Null: the
 * file's stand. PostgreSQL keeps them (./postgres.ts); ./settings.ts serves them to every request.
 */
export interface StoredTenantSettings {
  tenant: string;
  limits: TenantLimitsInput | null;
  biddingCriteria: CriteriaInput | null;
  /** Replaces the file's retention for the tenant (retention.tenants / retention.default). */
  retention: TenantRetention | null;
  updatedAt: Date;
  /** The subject of the credential that made the change. */
  updatedBy: string;
}

export type NewTenantSettings = Omit<StoredTenantSettings, "updatedAt">;

/** A stored row the configuration file would refuse (edited by hand, or by another version of Atomic). */
export class InvalidTenantSettingsError extends Error {
  constructor(
    readonly tenant: string,
    /** The row's settings as stored, so that a change to them can be told from the same row read again. */
    readonly content: string,
    message: string,
  ) {
    super(message);
    this.name = "InvalidTenantSettingsError";
  }
}

export interface TenantSettingsStore {
  /** Every tenant's settings; throws InvalidTenantSettingsError on the first row that does not validate. */
  list(): Promise<StoredTenantSettings[]>;
  /**
   * Replaces the tenant's settings (or creates them), stamped now; returns them as stored. With `describe`, the
   * audit event it makes of them is queued in the same transaction: no change without its record.
   */
  upsert(settings: NewTenantSettings, describe?: (written: StoredTenantSettings) => AuditEvent): Promise<StoredTenantSettings>;
  /** Removes the tenant's settings; returns what was removed, or null when nothing was stored (and nothing audited). */
  delete(tenant: string, describe?: (removed: StoredTenantSettings) => AuditEvent): Promise<StoredTenantSettings | null>;
}
