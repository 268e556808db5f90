import { describe, expect, it } from "vitest";
import type { Bid } from "../bids.js";
import { DEFAULT_WEIGHTS } from "../criteria.js";
import { featuresFromValues } from "../features.js";
import { seededRng } from "../../util/rng.js";
import { CheapestPolicy, LowestLatencyPolicy, RandomPolicy, RoundRobinPolicy, StrongestPolicy } from "./baselines.js";

const X = featuresFromValues({ taskType: "chat", inputTokens: 10 });
const CONTEXT = { weights: DEFAULT_WEIGHTS, qualitySlack: null, features: X };

function bid(modelId: string, cost: number, latencyMs: number, strength: number, eligible = true): Bid {
  return {
    modelId, confidence: 0.5, confidenceUpper: 1, confidenceSample: 0.5, observations: 0, latencyObservations: 1, promptTokens: 0, completionTokens: 0, cost, costUnit: "u",
    latencyMs, strength, eligible, excludedBy: eligible ? [] : ["max_cost"], costTerm: 0, latencyTerm: 0, score: 0, optimisticScore: 0,
  };
}

const BIDS = [bid("a", 3, 10, 1), bid("b", 1, 30, 2), bid("c", 0.5, 5, 9, false), bid("d", 2, 20, 5)];

describe("baseline policies", () => {
  it("pick by their fixed rule among eligible bids only", () => {
    expect(new CheapestPolicy().choose(BIDS, CONTEXT).index).toBe(1);
    expect(new LowestLatencyPolicy().choose(BIDS, CONTEXT).index).toBe(0);
    expect(new StrongestPolicy().choose(BIDS, CONTEXT)).toEqual({
      index: 3, greedyIndex: 3, mode: "exploit", rule: "the eligible candidate with the highest prior strength",
    });
  });

  it("lowest-latency measures every candidate before trusting its prior speed", () => {
    const unmeasured = BIDS.map((b) => ({ ...b, latencyObservations: b.modelId === "d" ? 0 : 3 }));
    // d is slower by its prior, but nothing was measured of it yet: it is tried first.
    expect(new LowestLatencyPolicy().choose(unmeasured, CONTEXT).index).toBe(3);
    expect(new LowestLatencyPolicy().choose(BIDS, CONTEXT).index).toBe(0);
  });

  it("round-robin takes the candidates in turn, skipping excluded ones", () => {
    const policy = new RoundRobinPolicy();
    expect(Array.from({ length: 6 }, () => BIDS[policy.choose(BIDS, CONTEXT).index]!.modelId)).toEqual(["a", "b", "d", "a", "b", "d"]);
  });

  it("random picks eligible bids only, reproducibly for a seed, and calls it exploration", () => {
    const picks = (seed: number) => {
      const policy = new RandomPolicy(seededRng(seed));
      return Array.from({ length: 200 }, () => policy.choose(BIDS, CONTEXT));
    };
    const first = picks(4);
    expect(first).toEqual(picks(4));
    expect(new Set(first.map((s) => BIDS[s.index]!.modelId))).toEqual(new Set(["a", "b", "d"]));
    expect(first.every((s) => s.mode === "explore")).toBe(true);
  });

  it("learn nothing and estimate nothing", () => {
    const policy = new CheapestPolicy();
    policy.update();
    const estimate = { mean: 0, upper: 0, sample: 0, observations: 3 };
    policy.estimate("a", X, estimate);
    expect(estimate).toEqual({ mean: 0.5, upper: 1, sample: 0.5, observations: 0 });
    expect(policy.importState(policy.exportState())).toBe(true);
    expect(policy.importState({ format: "linucb/2" })).toBe(false);
  });
});
