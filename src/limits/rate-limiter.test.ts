import { describe, expect, it } from "vitest";
import { RateLimiter } from "./rate-limiter.js";

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

describe("RateLimiter (GCRA)", () => {
  it("allows the burst at once, then one request per interval, and says when to retry", () => {
    const time = clock();
    const limiter = new RateLimiter(() => ({ requestsPerMinute: 60, burst: 3 }), time.now);
    expect([1, 2, 3].map(() => limiter.take("ward-7").allowed)).toEqual([true, true, true]);
    expect(limiter.take("ward-7")).toEqual({ allowed: false, retryAfterSeconds: 1 });
    time.advance(999);
    expect(limiter.take("ward-7").allowed).toBe(false);
    time.advance(1);
    expect(limiter.take("ward-7").allowed).toBe(true);
    expect(limiter.take("ward-7").allowed).toBe(false);
  });

  it("keeps tenants apart and lets an unlimited tenant through", () => {
    const time = clock();
    const limiter = new RateLimiter((tenant) => (tenant === "free" ? null : { requestsPerMinute: 6, burst: 1 }), time.now);
    expect(limiter.take("ward-7").allowed).toBe(true);
    expect(limiter.take("ward-7")).toEqual({ allowed: false, retryAfterSeconds: 10 });
    expect(limiter.take("ward-8").allowed).toBe(true);
    for (let i = 0; i < 1000; i++) expect(limiter.take("free").allowed).toBe(true);
  });

  it("refills to the full burst after a quiet spell, never beyond it", () => {
    const time = clock();
    const limiter = new RateLimiter(() => ({ requestsPerMinute: 60, burst: 2 }), time.now);
    limiter.take("t");
    limiter.take("t");
    time.advance(3_600_000);
    expect([1, 2, 3].map(() => limiter.take("t").allowed)).toEqual([true, true, false]);
  });

  it("applies a changed limit from the next request once the key is forgotten, at a full burst", () => {
    const time = clock();
    let limit = { requestsPerMinute: 1, burst: 2 };
    const limiter = new RateLimiter(() => limit, time.now);
    expect([1, 2, 3].map(() => limiter.take("t").allowed)).toEqual([true, true, false]);
    limit = { requestsPerMinute: 600, burst: 3 };
    // Read per request, but the backlog taken at 1 per minute still stands against the new rate.
    expect(limiter.take("t").allowed).toBe(false);
    limiter.forget("t");
    expect([1, 2, 3, 4].map(() => limiter.take("t").allowed)).toEqual([true, true, true, false]);
    time.advance(100);
    expect(limiter.take("t").allowed).toBe(true);
  });
});
