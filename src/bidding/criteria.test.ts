import { describe, expect, it } from "vitest";
import type { Bid } from "./bids.js";
import { applyCriteria, CriteriaSchema, NOT_EXCLUDED, resolveCriteria } from "./criteria.js";
import { CriteriaError, NoEligibleModelError } from "./errors.js";

function bid(modelId: string, values: Partial<Bid>): Bid {
  return {
    modelId, confidence: 0.8, confidenceUpper: 0.9, confidenceSample: 0.9, observations: 10, latencyObservations: 10, promptTokens: 100, completionTokens: 50, cost: 1,
    costUnit: "compute-seconds", latencyMs: 1000, strength: 1, eligible: true, excludedBy: NOT_EXCLUDED, costTerm: 0,
    latencyTerm: 0, score: 0, optimisticScore: 0, ...values,
  };
}

describe("criteria", () => {
  it("takes each field from the request, else the tenant, else global, else the default", () => {
    const criteria = resolveCriteria({
      request: { weights: { cost: 2 }, constraints: { maxLatencyMs: 500 } },
      tenant: { weights: { cost: 1, latency: 1 }, constraints: { maxLatencyMs: 2000, maxCost: 3 } },
      global: { weights: { quality: 4, latency: 0 }, constraints: { maxCost: 10, minConfidence: 0.2 } },
    });
    // Raw weights quality 4 (global), cost 2 (request), latency 1 (tenant), normalised to sum 1.
    expect(criteria.weights).toEqual({ quality: 4 / 7, cost: 2 / 7, latency: 1 / 7 });
    expect(criteria.constraints).toEqual({ maxLatencyMs: 500, maxCost: 3, minConfidence: 0.2 });
    expect(criteria.sources).toEqual({ qualityTarget: "request", quality: "global", cost: "request", latency: "tenant", maxLatencyMs: "request", maxCost: "tenant", minConfidence: "global" });
  });

  it("uses the built-in defaults with nothing set, and null lifts a constraint set below", () => {
    const defaults = resolveCriteria();
    expect(defaults.constraints).toEqual({ maxLatencyMs: null, maxCost: null, minConfidence: null });
    expect(defaults.weights.quality + defaults.weights.cost + defaults.weights.latency).toBeCloseTo(1, 12);
    expect(defaults.sources.quality).toBe("default");
    const lifted = resolveCriteria({ request: { constraints: { maxCost: null } }, tenant: { constraints: { maxCost: 1 } } });
    expect(lifted.constraints.maxCost).toBeNull();
    expect(lifted.sources.maxCost).toBe("request");
  });

  it("applies a default quality target only where no level sets a target or weights", () => {
    expect(resolveCriteria().qualityTarget).toBeNull();
    const defaulted = resolveCriteria({ request: { constraints: { maxCost: 2 } } }, 0.95);
    expect(defaulted.qualityTarget).toBe(0.95);
    expect(defaulted.sources.qualityTarget).toBe("default");
    const weighted = resolveCriteria({ tenant: { weights: { cost: 0.5 } } }, 0.95);
    expect(weighted.qualityTarget).toBeNull();
    expect(weighted.sources.qualityTarget).toBe("tenant");
    expect(resolveCriteria({ global: { qualityTarget: 0.8 } }, 0.95).qualityTarget).toBe(0.8);
    expect(resolveCriteria({ request: { qualityTarget: null } }, 0.95).qualityTarget).toBeNull();
  });

  it("validates with zod and refuses weights that are all zero", () => {
    expect(CriteriaSchema.safeParse({ weights: { quality: -1 } }).success).toBe(false);
    expect(CriteriaSchema.safeParse({ constraints: { minConfidence: 2 } }).success).toBe(false);
    expect(CriteriaSchema.safeParse({ constraints: { maxTokens: 5 } }).success).toBe(false);
    expect(CriteriaSchema.safeParse({ weights: { quality: 1 }, constraints: { maxLatencyMs: 100 } }).success).toBe(true);
    expect(() => resolveCriteria({ request: { weights: { quality: 0, cost: 0, latency: 0 } } })).toThrow(CriteriaError);
  });

  it("scores bids by weighted utility, cost and latency relative to the largest eligible bid", () => {
    const criteria = resolveCriteria({ global: { weights: { quality: 0.6, cost: 0.3, latency: 0.1 } } });
    const bids = [bid("cheap", { confidence: 0.7, confidenceUpper: 0.95, confidenceSample: 0.95, cost: 1, latencyMs: 500 }), bid("dear", { confidence: 0.9, confidenceUpper: 0.92, cost: 4, latencyMs: 2000 })];
    applyCriteria(bids, criteria, "task");
    expect(bids[0]!.score).toBeCloseTo(0.6 * 0.7 - 0.3 * 0.25 - 0.1 * 0.25, 12);
    expect(bids[0]!.optimisticScore).toBeCloseTo(0.6 * 0.95 - 0.3 * 0.25 - 0.1 * 0.25, 12);
    expect(bids[1]!.score).toBeCloseTo(0.6 * 0.9 - 0.3 - 0.1, 12);
  });

  it("excludes bids over the latency and cost limits or surely under the minimum confidence, saying which", () => {
    const criteria = resolveCriteria({ request: { constraints: { maxLatencyMs: 1000, maxCost: 2, minConfidence: 0.6 } } });
    const bids = [
      bid("ok", {}),
      bid("slow", { latencyMs: 1500 }),
      bid("dear", { cost: 3 }),
      bid("poor", { confidence: 0.3, confidenceUpper: 0.5 }),
      // Below the minimum on its mean, but the learner cannot yet rule out that it reaches it.
      bid("unproven", { confidence: 0.5, confidenceUpper: 1, observations: 0 }),
      bid("all", { latencyMs: 5000, cost: 5, confidence: 0.1, confidenceUpper: 0.2 }),
    ];
    applyCriteria(bids, criteria, "task");
    expect(bids.map((b) => [b.modelId, b.eligible, [...b.excludedBy]])).toEqual([
      ["ok", true, []],
      ["slow", false, ["max_latency"]],
      ["dear", false, ["max_cost"]],
      ["poor", false, ["min_confidence"]],
      ["unproven", true, []],
      ["all", false, ["max_latency", "max_cost", "min_confidence"]],
    ]);
  });

  it("throws a typed error naming every exclusion when nothing is eligible", () => {
    const criteria = resolveCriteria({ request: { constraints: { maxCost: 0.5 } } });
    const bids = [bid("a", { cost: 1 }), bid("b", { cost: 2, excludedBy: ["context_length"], eligible: false })];
    let error: unknown;
    try {
      applyCriteria(bids, criteria, "item-2");
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(NoEligibleModelError);
    const noEligible = error as NoEligibleModelError;
    expect(noEligible.code).toBe("no_eligible_model");
    expect(noEligible.microtaskId).toBe("item-2");
    expect(noEligible.exclusions).toEqual([{ model: "a", excludedBy: ["max_cost"] }, { model: "b", excludedBy: ["context_length", "max_cost"] }]);
    expect(noEligible.message).toMatch(/a \(max_cost\); b \(context_length, max_cost\)/);
  });
});
