import type { Config, TenantLimitsInput } from "../config/schema.js";
import type { RateLimit } from "./rate-limiter.js";

export type LimitFields = Config["limits"]["default"];

/** A tenant's limits as the rate limiter and the token budget apply them. */
export interface TenantLimits {
  rate: RateLimit | null;
  tokensPerDay: number | null;
}

/**
 * A tenant's limit fields: those stored for it over HTTP (src/tenants/), over its own entry in the file, over the
 * file's default; each level replaces only the fields it sets.
 */
export function limitFields(config: Config["limits"], tenant: string, stored: TenantLimitsInput | null = null): LimitFields {
  const own = Object.hasOwn(config.tenants, tenant) ? config.tenants[tenant]! : {};
  return { ...config.default, ...own, ...stored };
}

export function tenantLimits(config: Config["limits"], tenant: string, stored: TenantLimitsInput | null = null): TenantLimits {
  const merged = limitFields(config, tenant, stored);
  return {
    rate: merged.requestsPerMinute === null ? null : { requestsPerMinute: merged.requestsPerMinute, burst: merged.burst },
    tokensPerDay: merged.tokensPerDay,
  };
}
