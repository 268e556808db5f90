import type { Config } from "../config/schema.js";

const DAY_MS = 86_400_000;

/** Days the tenant's execution content is kept: its own entry, else the default; null: until erased on demand. */
export function retentionDays(config: Config["retention"], tenant: string): number | null {
  return Object.hasOwn(config.tenants, tenant) ? config.tenants[tenant]!.days : config.default.days;
}

/** Content created before this instant is past its retention at `now`. */
export function retentionCutoff(days: number, now: Date): Date {
  return new Date(now.getTime() - days * DAY_MS);
}

/**
 * The tenants a retention pass must look at. With a default retention that is every tenant with content stored
 * (asked of the database, given as `tenantsWithContent`); without one, only those configured with a retention of
 * their own, and the database is not asked at all.
 */
export async function tenantsUnderRetention(config: Config["retention"], tenantsWithContent: () => Promise<string[]>): Promise<string[]> {
  const candidates = config.default.days === null ? Object.keys(config.tenants) : await tenantsWithContent();
  return candidates.filter((tenant) => retentionDays(config, tenant) !== null);
}
