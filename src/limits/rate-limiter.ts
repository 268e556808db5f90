export interface RateLimit {
  requestsPerMinute: number;
  /** Requests that may arrive at once after a quiet spell. */
  burst: number;
}

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

// Keys idle long enough to be back at a full burst carry no information; past this many, they are dropped.
const SWEEP_THRESHOLD = 10_000;

/**
 * GCRA (the generic cell rate algorithm, as in leaky-bucket traffic shaping): one timestamp per key, O(1) per
 * request, smooth at the configured rate with `burst` allowed at once. Per process: with several gateways,
 * each enforces the limit on what it receives.
 */
export class RateLimiter {
  private readonly theoreticalArrival = new Map<string, number>();

  constructor(private readonly limitFor: (key: string) => RateLimit | null, private readonly now: () => number = Date.now) {}

  take(key: string): RateDecision {
    const limit = this.limitFor(key);
    if (limit === null) return { allowed: true };
    const interval = 60_000 / limit.requestsPerMinute;
    const tolerance = interval * (limit.burst - 1);
    const now = this.now();
    const tat = Math.max(this.theoreticalArrival.get(key) ?? now, now);
    if (tat - tolerance > now) return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((tat - tolerance - now) / 1000)) };
    if (this.theoreticalArrival.size >= SWEEP_THRESHOLD) this.sweep(now);
    this.theoreticalArrival.set(key, tat + interval);
    return { allowed: true };
  }

  /**
   * Starts the key afresh, at a full burst. For a limit that changed: the backlog counted at the old rate would
   * otherwise keep refusing under the new one (at 1 per minute, a minute per request taken).
   */
  forget(key: string): void {
    this.theoreticalArrival.delete(key);
  }

  private sweep(now: number): void {
    for (const [key, tat] of this.theoreticalArrival) if (tat <= now) this.theoreticalArrival.delete(key);
  }
}
