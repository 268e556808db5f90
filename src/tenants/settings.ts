import type { CriteriaInput } from "../bidding/criteria.js";
import type { Config, TenantLimitsInput } from "../config/schema.js";
import { limitFields, tenantLimits, type LimitFields, type TenantLimits } from "../limits/tenant-limits.js";
import type { StoredTenantSettings, TenantSettingsStore } from "./interface.js";

/** The configuration file's entries that stored settings stand over. */
export type FileSettings = Pick<Config, "limits" | "bidding">;

/** Where a tenant's settings come from, and what is in force. */
export interface TenantSettingsView {
  file: { limits: LimitFields; criteria: CriteriaInput | null };
  stored: StoredTenantSettings | null;
  effective: { limits: LimitFields; criteria: CriteriaInput | null };
}

/** A change to a tenant's stored settings: each part given replaces the stored one, each part absent stays. */
export interface SettingsChange {
  limits?: TenantLimitsInput;
  /** null: none stored, the file's criteria apply again. */
  criteria?: CriteriaInput | null;
}

export interface SettingsUpdate {
  before: TenantSettingsView;
  after: TenantSettingsView;
}

/**
 * Tenants' limits and bidding criteria as every request reads them: the configuration file's, with what admins
 * stored over HTTP on top. Loaded once at start and answered from memory (the rate limiter asks on every request);
 * a change is written to the store first and applied here only once written, so a failed write changes nothing.
 * Other gateways on the same database read a change at their next start.
 */
export class TenantSettings {
  /** One write at a time: the map ends as the table does, and each change's `before` is the one it replaced. */
  private writes: Promise<unknown> = Promise.resolve();
  private readonly limitsListeners: Array<(tenant: string) => void> = [];

  private constructor(
    private readonly store: TenantSettingsStore,
    private readonly file: FileSettings,
    private readonly stored: Map<string, StoredTenantSettings>,
  ) {}

  static async open(store: TenantSettingsStore, file: FileSettings): Promise<TenantSettings> {
    const rows = await store.list();
    return new TenantSettings(store, file, new Map(rows.map((row) => [row.tenant, row])));
  }

  limitsFor(tenant: string): TenantLimits {
    return tenantLimits(this.file.limits, tenant, this.stored.get(tenant)?.limits ?? null);
  }

  criteriaFor(tenant: string): CriteriaInput | undefined {
    return this.stored.get(tenant)?.biddingCriteria ?? this.fileCriteria(tenant) ?? undefined;
  }

  view(tenant: string): TenantSettingsView {
    const stored = this.stored.get(tenant) ?? null;
    const fileCriteria = this.fileCriteria(tenant);
    return {
      file: { limits: limitFields(this.file.limits, tenant), criteria: fileCriteria },
      stored,
      effective: { limits: limitFields(this.file.limits, tenant, stored?.limits ?? null), criteria: stored?.biddingCriteria ?? fileCriteria },
    };
  }

  /** Called after each change to a tenant's stored limits, once it is in force. */
  onLimitsChanged(listener: (tenant: string) => void): void {
    this.limitsListeners.push(listener);
  }

  change(tenant: string, change: SettingsChange, updatedBy: string): Promise<SettingsUpdate> {
    return this.serially(async () => {
      const before = this.view(tenant);
      const written = await this.store.upsert({
        tenant,
        limits: change.limits ?? before.stored?.limits ?? null,
        biddingCriteria: change.criteria === undefined ? before.stored?.biddingCriteria ?? null : change.criteria,
        updatedBy,
      });
      this.stored.set(tenant, written);
      if (change.limits !== undefined) this.limitsChanged(tenant);
      return { before, after: this.view(tenant) };
    });
  }

  /** Back to the file's settings; null when nothing was stored. */
  remove(tenant: string): Promise<SettingsUpdate | null> {
    return this.serially(async () => {
      const before = this.view(tenant);
      const removed = await this.store.delete(tenant);
      if (removed === null) return null;
      this.stored.delete(tenant);
      if (removed.limits !== null) this.limitsChanged(tenant);
      return { before, after: this.view(tenant) };
    });
  }

  private fileCriteria(tenant: string): CriteriaInput | null {
    return Object.hasOwn(this.file.bidding.tenants, tenant) ? this.file.bidding.tenants[tenant]! : null;
  }

  private limitsChanged(tenant: string): void {
    for (const listener of this.limitsListeners) listener(tenant);
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const result = this.writes.then(work);
    this.writes = result.catch(() => undefined);
    return result;
  }
}
