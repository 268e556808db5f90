import type { Config } from "../config/schema.js";
import type { RateLimit } from "./rate-limiter.js";

/** A tenant's limits: its own entry's fields over the default's. */
export function tenantLimits(config: Config["limits"], tenant: string): { rate: RateLimit | null; tokensPerDay: number | null } {
  const own = Object.hasOwn(config.tenants, tenant) ? config.tenants[tenant]! : {};
  const merged = { ...config.default, ...own };
  return {
    rate: merged.requestsPerMinute === null ? null : { requestsPerMinute: merged.requestsPerMinute, burst: merged.burst },
    tokensPerDay: merged.tokensPerDay,
  };
}
