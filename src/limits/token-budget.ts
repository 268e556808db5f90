export interface TokenUsage {
  /** Prompt + completion tokens the tenant's executions used since `since`. */
  tokensSince(tenant: string, since: Date): Promise<number>;
}

export type BudgetDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number; used: number; budget: number };

export interface TokenBudgetOptions {
  usage: TokenUsage;
  /** Tokens per UTC day for the tenant; null: no budget. */
  budgetFor(tenant: string): number | null;
  /** How long a usage figure is reused; bounds how far past its budget a busy tenant can run. Default 1000 ms. */
  refreshMs?: number;
  now?: () => number;
}

const DAY_MS = 86_400_000;

/**
 * Daily token budgets per tenant, counted from the executions themselves (the record is the meter: no second
 * counter to drift). Checked before work starts; a request that starts under budget finishes, so a tenant can
 * exceed it by what was in flight plus at most refreshMs of traffic.
 */
export class TokenBudget {
  private readonly cache = new Map<string, { windowStart: number; used: number; fetchedAt: number }>();
  private readonly refreshMs: number;
  private readonly now: () => number;

  constructor(private readonly options: TokenBudgetOptions) {
    this.refreshMs = options.refreshMs ?? 1000;
    this.now = options.now ?? Date.now;
  }

  async check(tenant: string): Promise<BudgetDecision> {
    const budget = this.options.budgetFor(tenant);
    if (budget === null) return { allowed: true };
    const now = this.now();
    const windowStart = now - (now % DAY_MS);
    let entry = this.cache.get(tenant);
    if (entry === undefined || entry.windowStart !== windowStart || now - entry.fetchedAt >= this.refreshMs) {
      entry = { windowStart, used: await this.options.usage.tokensSince(tenant, new Date(windowStart)), fetchedAt: now };
      this.cache.set(tenant, entry);
    }
    if (entry.used < budget) return { allowed: true };
    return { allowed: false, retryAfterSeconds: Math.ceil((windowStart + DAY_MS - now) / 1000), used: entry.used, budget };
  }
}
