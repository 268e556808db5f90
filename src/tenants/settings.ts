import { isDeepStrictEqual } from "node:util";
import type { AuditEvent } from "../audit/core/entry.js";
import type { CriteriaInput } from "../bidding/criteria.js";
import type { Config, TenantLimitsInput, TenantRetention } from "../config/schema.js";
import { limitFields, tenantLimits, type LimitFields, type TenantLimits } from "../limits/tenant-limits.js";
import type { Logger } from "../observability/logger.js";
import { retentionDays } from "../retention/policy.js";
import { InvalidTenantSettingsError, type StoredTenantSettings, type TenantSettingsStore } from "./interface.js";
import { SerialRefresher } from "../util/serial-refresher.js";

/** The configuration file's entries that stored settings stand over. */
export type FileSettings = Pick<Config, "limits" | "bidding" | "retention">;

/** Where a tenant's settings come from, and what is in force. */
export interface TenantSettingsView {
  file: { limits: LimitFields; criteria: CriteriaInput | null; retention: TenantRetention };
  stored: StoredTenantSettings | null;
  effective: { limits: LimitFields; criteria: CriteriaInput | null; retention: TenantRetention };
}

/** A change to a tenant's stored settings: each part given replaces the stored one, each part absent stays. */
export interface SettingsChange {
  limits?: TenantLimitsInput;
  /** null: none stored, the file's criteria apply again. */
  criteria?: CriteriaInput | null;
  /** null: none stored, the file's retention applies again. */
  retention?: TenantRetention | null;
}

export interface SettingsUpdate {
  before: TenantSettingsView;
  after: TenantSettingsView;
}

/** What a failed refresh is reported under when the table could not be read at all. */
const UNREADABLE = "unreadable";

/**
 * Tenants' limits and bidding criteria as every request reads them: the configuration file's, with what admins
 * stored over HTTP on top. Loaded at start and answered from memory (the rate limiter asks on every request);
 * a change is written to the store first and applied here only once written, so a failed write changes nothing.
 * Other gateways on the same database take a change at their next refresh (refreshEvery).
 */
export class TenantSettings {
  /**
   * One write or refresh at a time: the map ends as the table does, each change's `before` is the one it replaced,
   * and a refresh never brings back a row that a write it raced with removed.
   */
  private readonly serial = new SerialRefresher(() => this.refresh());
  private readonly limitsListeners: Array<(tenant: string) => void> = [];
  /** The refresh failures warned of since the last refresh that worked: each is logged once, not at every interval. */
  private readonly reported = new Set<string>();

  private constructor(
    private readonly store: TenantSettingsStore,
    private readonly file: FileSettings,
    private readonly logger: Logger,
    private readonly stored: Map<string, StoredTenantSettings>,
  ) {}

  /** Throws when the table cannot be read or holds an invalid row: a gateway does not start on settings it cannot read. */
  static async open(store: TenantSettingsStore, file: FileSettings, logger: Logger): Promise<TenantSettings> {
    const rows = await store.list();
    return new TenantSettings(store, file, logger, new Map(rows.map((row) => [row.tenant, row])));
  }

  /**
   * The retention in force: the file's, each tenant's stored retention over its entry. Read by every retention
   * pass, so a change applies from the next pass on (on other gateways after their next refresh).
   */
  retention(): Config["retention"] {
    const tenants = { ...this.file.retention.tenants };
    for (const [tenant, stored] of this.stored) if (stored.retention !== null) tenants[tenant] = stored.retention;
    return { ...this.file.retention, tenants };
  }

  limitsFor(tenant: string): TenantLimits {
    return tenantLimits(this.file.limits, tenant, this.stored.get(tenant)?.limits ?? null);
  }

  criteriaFor(tenant: string): CriteriaInput | undefined {
    return this.stored.get(tenant)?.biddingCriteria ?? this.fileCriteria(tenant) ?? undefined;
  }

  view(tenant: string): TenantSettingsView {
    return this.viewWith(tenant, this.stored.get(tenant) ?? null);
  }

  /** Called once a change to a tenant's stored limits is in force; after a refresh, for each tenant whose limits in force changed. */
  onLimitsChanged(listener: (tenant: string) => void): void {
    this.limitsListeners.push(listener);
  }

  /** Stores a change; with `audit`, its event is queued in the same transaction as the write. */
  change(tenant: string, change: SettingsChange, updatedBy: string, audit?: (update: SettingsUpdate) => AuditEvent): Promise<SettingsUpdate> {
    return this.serial.serially(async () => {
      const before = this.view(tenant);
      const written = await this.store.upsert({
        tenant,
        limits: change.limits ?? before.stored?.limits ?? null,
        biddingCriteria: change.criteria === undefined ? before.stored?.biddingCriteria ?? null : change.criteria,
        retention: change.retention === undefined ? before.stored?.retention ?? null : change.retention,
        updatedBy,
      }, audit === undefined ? undefined : (stored) => audit({ before, after: this.viewWith(tenant, stored) }));
      this.stored.set(tenant, written);
      if (change.limits !== undefined) this.limitsChanged(tenant);
      return { before, after: this.view(tenant) };
    });
  }

  /** Back to the file's settings; null when nothing was stored. */
  /** Removes what is stored; with `audit`, its event is queued in the same transaction as the delete. */
  remove(tenant: string, audit?: (update: SettingsUpdate) => AuditEvent): Promise<SettingsUpdate | null> {
    return this.serial.serially(async () => {
      const before = this.view(tenant);
      const removed = await this.store.delete(tenant, audit === undefined ? undefined : () => audit({ before, after: this.viewWith(tenant, null) }));
      if (removed === null) return null;
      this.stored.delete(tenant);
      if (removed.limits !== null) this.limitsChanged(tenant);
      return { before, after: this.view(tenant) };
    });
  }

  /**
   * Reads the table again and takes what other gateways on the database changed. Never throws: when the table cannot
   * be read, or holds a row the file would refuse, what was read before stays in force and a warning says why, once
   * per failure (the next refresh tries again).
   */
  refresh(): Promise<void> {
    return this.serial.serially(async () => {
      let rows: StoredTenantSettings[];
      try {
        rows = await this.store.list();
      } catch (error) {
        this.reportRefreshFailure(error);
        return;
      }
      this.reported.clear();
      this.replace(rows);
    });
  }

  /** Refreshes every `intervalMs`, each time that long after the previous refresh ended, until stop(). */
  refreshEvery(intervalMs: number): void {
    this.serial.every(intervalMs);
  }

  /** No refresh starts any more; a refresh or write in progress ends first, before the database can go. */
  stop(): Promise<void> {
    return this.serial.stop();
  }

  /** Takes the rows read as the stored settings, telling the listeners of each tenant whose limits in force changed. */
  private replace(rows: StoredTenantSettings[]): void {
    const next = new Map(rows.map((row) => [row.tenant, row]));
    const changed = [...new Set([...this.stored.keys(), ...next.keys()])]
      .filter((tenant) => !isDeepStrictEqual(this.stored.get(tenant), next.get(tenant)))
      .map((tenant) => ({ tenant, limitsBefore: this.effectiveLimits(tenant) }));
    for (const { tenant } of changed) {
      const row = next.get(tenant);
      if (row === undefined) this.stored.delete(tenant);
      else this.stored.set(tenant, row);
    }
    // A bucket is forgotten only when the limits it counts against changed: another gateway changing only a
    // tenant's criteria must not hand its throttled clients a fresh burst here.
    for (const { tenant, limitsBefore } of changed) {
      if (!isDeepStrictEqual(limitsBefore, this.effectiveLimits(tenant))) this.limitsChanged(tenant);
    }
  }

  private reportRefreshFailure(error: unknown): void {
    if (error instanceof InvalidTenantSettingsError) {
      // The database answered: a streak of failures to reach it has ended.
      this.reported.delete(UNREADABLE);
      const problem = `${error.tenant}\n${error.content}`;
      if (this.reported.has(problem)) return;
      this.reported.add(problem);
      this.logger.warn({ err: error, tenant: error.tenant }, `tenant settings: the row of tenant ${error.tenant} is invalid; the settings read before stay in force until it is fixed`);
      return;
    }
    if (this.reported.has(UNREADABLE)) return;
    this.reported.add(UNREADABLE);
    this.logger.warn({ err: error }, "tenant settings: could not be read again; the settings read before stay in force");
  }

  private viewWith(tenant: string, stored: StoredTenantSettings | null): TenantSettingsView {
    const fileCriteria = this.fileCriteria(tenant);
    const fileRetention = { days: retentionDays(this.file.retention, tenant) };
    return {
      file: { limits: limitFields(this.file.limits, tenant), criteria: fileCriteria, retention: fileRetention },
      stored,
      effective: {
        limits: limitFields(this.file.limits, tenant, stored?.limits ?? null),
        criteria: stored?.biddingCriteria ?? fileCriteria,
        retention: stored?.retention ?? fileRetention,
      },
    };
  }

  private effectiveLimits(tenant: string): LimitFields {
    return limitFields(this.file.limits, tenant, this.stored.get(tenant)?.limits ?? null);
  }

  private fileCriteria(tenant: string): CriteriaInput | null {
    return Object.hasOwn(this.file.bidding.tenants, tenant) ? this.file.bidding.tenants[tenant]! : null;
  }

  private limitsChanged(tenant: string): void {
    for (const listener of this.limitsListeners) listener(tenant);
  }

}
