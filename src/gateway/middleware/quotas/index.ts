import type { MiddlewareHandler } from "hono";
import type { RateLimiter } from "../../../limits/rate-limiter.js";
import type { TokenBudget } from "../../../limits/token-budget.js";
import { ApiError } from "../../errors.js";

export interface Quotas {
  requests: Pick<RateLimiter, "take">;
  tokens: Pick<TokenBudget, "check">;
}

/** Per-tenant request rate; under `authenticate`, which records the 429 as a refusal. */
export function rateLimit(quotas: Quotas): MiddlewareHandler {
  return async function rateLimitHandler(c, next) {
    const decision = quotas.requests.take(c.get("principal").tenant);
    if (!decision.allowed) {
      throw new ApiError(429, "rate_limit_error", "rate_limited", "this tenant's request rate limit is reached; retry after the time given", null,
        { "Retry-After": String(decision.retryAfterSeconds) });
    }
    await next();
  };
}

/** For routes that spend tokens: refused once the tenant's daily budget is used up. */
export function requireTokenBudget(quotas: Quotas): MiddlewareHandler {
  return async function tokenBudgetHandler(c, next) {
    const decision = await quotas.tokens.check(c.get("principal").tenant);
    if (!decision.allowed) {
      throw new ApiError(429, "rate_limit_error", "token_budget_exhausted",
        `this tenant's daily token budget (${decision.budget}) is used up (${decision.used}); it renews at 00:00 UTC`, null,
        { "Retry-After": String(decision.retryAfterSeconds) });
    }
    await next();
  };
}
