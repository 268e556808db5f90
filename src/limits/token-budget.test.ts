import { describe, expect, it } from "vitest";
import { TokenBudget } from "./token-budget.js";

const MIDNIGHT = Date.UTC(2026, 10, 26);

describe("TokenBudget", () => {
  it("refuses once the day's usage reaches the budget, until midnight UTC", async () => {
    let now = MIDNIGHT + 23 * 3_600_000;
    const asked: Array<[string, string]> = [];
    let used = 900;
    const budget = new TokenBudget({
      usage: { tokensSince: async (tenant, since) => (asked.push([tenant, since.toISOString()]), used) },
      budgetFor: (tenant) => (tenant === "ward-7" ? 1000 : null),
      refreshMs: 0,
      now: () => now,
    });

    expect(await budget.check("ward-7")).toEqual({ allowed: true });
    used = 1000;
    expect(await budget.check("ward-7")).toEqual({ allowed: false, retryAfterSeconds: 3600, used: 1000, budget: 1000 });
    expect(asked.at(-1)).toEqual(["ward-7", "2026-11-26T00:00:00.000Z"]);
    expect(await budget.check("ward-8")).toEqual({ allowed: true });
    expect(asked.filter(([tenant]) => tenant === "ward-8")).toHaveLength(0);

    now = MIDNIGHT + 24 * 3_600_000 + 5;
    used = 0;
    expect(await budget.check("ward-7")).toEqual({ allowed: true });
    expect(asked.at(-1)).toEqual(["ward-7", "2026-11-27T00:00:00.000Z"]);
  });

  it("reuses a usage figure for refreshMs, then asks again", async () => {
    let now = MIDNIGHT + 1000;
    let calls = 0;
    const budget = new TokenBudget({ usage: { tokensSince: async () => (calls++, 0) }, budgetFor: () => 10, refreshMs: 1000, now: () => now });
    await budget.check("t");
    now += 999;
    await budget.check("t");
    expect(calls).toBe(1);
    now += 1;
    await budget.check("t");
    expect(calls).toBe(2);
  });
});
