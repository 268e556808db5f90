import { describe, expect, it } from "vitest";
import type { Bid } from "../bids.js";
import { applyCriteria, NOT_EXCLUDED, resolveCriteria } from "../criteria.js";
import { featuresFromValues, type TaskFeatures } from "../features.js";
import { seededRng } from "../../util/rng.js";
import type { Estimate, SelectionPolicy } from "./interface.js";
import { LinUcbPolicy } from "./linucb.js";

const CHAT = featuresFromValues({ taskType: "chat", inputTokens: 120 });
const SUMMARY = featuresFromValues({ taskType: "summarization", inputTokens: 3000 });
/** Success probability of each model per context: each context has a different best model. */
const TRUTH: Record<string, Record<string, number>> = {
  chat: { a: 0.9, b: 0.6, c: 0.4 },
  summarization: { a: 0.3, b: 0.6, c: 0.9 },
};
const QUALITY_ONLY = resolveCriteria({ global: { weights: { quality: 1, cost: 0, latency: 0 } } });

function bidsFor(policy: SelectionPolicy, features: TaskFeatures, models: string[]): Bid[] {
  const estimate: Estimate = { mean: 0, upper: 0, sample: 0, observations: 0 };
  const bids = models.map((modelId): Bid => {
    policy.estimate(modelId, features, estimate);
    return {
      modelId, confidence: estimate.mean, confidenceUpper: estimate.upper, confidenceSample: estimate.sample, observations: estimate.observations, latencyObservations: 1, promptTokens: 0,
      completionTokens: 0, cost: 1, costUnit: "u", latencyMs: 1, strength: 1, eligible: true, excludedBy: NOT_EXCLUDED,
      costTerm: 0, latencyTerm: 0, score: 0, optimisticScore: 0,
    };
  });
  applyCriteria(bids, QUALITY_ONLY, "task");
  return bids;
}

/** Runs the bandit on a seeded stream; returns the models chosen and the modes, per round. */
function run(policy: SelectionPolicy, rounds: number, seed: number) {
  const rng = seededRng(seed);
  const chosen: Array<{ context: string; model: string; mode: string }> = [];
  for (let round = 0; round < rounds; round++) {
    const features = rng() < 0.5 ? CHAT : SUMMARY;
    const bids = bidsFor(policy, features, ["a", "b", "c"]);
    const selection = policy.choose(bids, { weights: QUALITY_ONLY.weights, qualitySlack: null, features: features });
    const model = bids[selection.index]!.modelId;
    policy.update(model, features, rng() < TRUTH[features.taskType]![model]! ? 1 : 0);
    chosen.push({ context: features.taskType, model, mode: selection.mode });
  }
  return chosen;
}

describe("LinUcbPolicy", () => {
  it("learns the best model of each context from a noisy stream", () => {
    for (const seed of [1, 2, 3]) {
      const last = run(new LinUcbPolicy(), 1500, seed).slice(-400);
      const chat = last.filter((c) => c.context === "chat");
      const summary = last.filter((c) => c.context === "summarization");
      expect(chat.filter((c) => c.model === "a").length / chat.length).toBeGreaterThan(0.85);
      expect(summary.filter((c) => c.model === "c").length / summary.length).toBeGreaterThan(0.85);
    }
  });

  it("explores first and exploits once it knows", () => {
    const chosen = run(new LinUcbPolicy(), 1500, 7);
    // Nothing is known of any model at first.
    expect(chosen[0]!.mode).toBe("explore");
    const early = chosen.slice(0, 30).filter((c) => c.mode === "explore").length;
    const late = chosen.slice(-300).filter((c) => c.mode === "explore").length;
    expect(early).toBeGreaterThan(late);
    expect(late / 300).toBeLessThan(0.2);
  });

  it("calls a choice exploration when the optimistic bound, not the mean, decided it", () => {
    const policy = new LinUcbPolicy();
    for (let i = 0; i < 200; i++) policy.update("known", CHAT, i % 5 === 0 ? 0 : 1); // 0.8, well measured
    for (let i = 0; i < 2; i++) policy.update("barely", CHAT, i === 0 ? 1 : 0); // 0.5 on two tries
    const bids = bidsFor(policy, CHAT, ["known", "barely"]);
    expect(bids[0]!.confidence).toBeGreaterThan(bids[1]!.confidence);
    expect(bids[1]!.confidenceUpper).toBeGreaterThan(bids[0]!.confidenceUpper);
    const selection = policy.choose(bids, { weights: QUALITY_ONLY.weights, qualitySlack: null, features: CHAT });
    expect(selection).toEqual({ index: 1, greedyIndex: 0, mode: "explore" });
  });

  it("is deterministic: the same seed gives the same choices", () => {
    expect(run(new LinUcbPolicy(), 300, 11)).toEqual(run(new LinUcbPolicy(), 300, 11));
  });

  it("ignores updates and revisions while frozen", () => {
    const policy = new LinUcbPolicy();
    run(policy, 200, 3);
    const before = JSON.stringify(policy.exportState());
    policy.freeze();
    policy.update("a", CHAT, 0);
    policy.update("new", CHAT, 1);
    policy.revise("a", CHAT, 1, 0);
    expect(JSON.stringify(policy.exportState())).toBe(before);
    policy.unfreeze();
    policy.update("a", CHAT, 0);
    expect(JSON.stringify(policy.exportState())).not.toBe(before);
  });

  it("revising a reward equals having learned the revised reward in the first place", () => {
    const revised = new LinUcbPolicy();
    const direct = new LinUcbPolicy();
    for (let i = 0; i < 20; i++) {
      revised.update("a", CHAT, 1);
      direct.update("a", CHAT, i === 7 ? 0.2 : 1);
    }
    revised.revise("a", CHAT, 1, 0.2);
    const x: Estimate = { mean: 0, upper: 0, sample: 0, observations: 0 };
    const y: Estimate = { mean: 0, upper: 0, sample: 0, observations: 0 };
    revised.estimate("a", CHAT, x);
    direct.estimate("a", CHAT, y);
    expect(x.mean).toBeCloseTo(y.mean, 12);
    expect(x.upper).toBeCloseTo(y.upper, 12);
  });

  it("exports state as JSON and imports it back exactly; refuses state of another layout", () => {
    const policy = new LinUcbPolicy();
    run(policy, 500, 5);
    const restored = new LinUcbPolicy();
    expect(restored.importState(JSON.parse(JSON.stringify(policy.exportState())))).toBe(true);
    for (const features of [CHAT, SUMMARY]) {
      for (const model of ["a", "b", "c", "unknown"]) {
        const x: Estimate = { mean: 0, upper: 0, sample: 0, observations: 0 };
        const y: Estimate = { mean: 0, upper: 0, sample: 0, observations: 0 };
        policy.estimate(model, features, x);
        restored.estimate(model, features, y);
        expect(y.mean).toBeCloseTo(x.mean, 9);
        expect(y.upper).toBeCloseTo(x.upper, 9);
        expect(y.observations).toBe(x.observations);
      }
    }
    const state = policy.exportState();
    expect(new LinUcbPolicy().importState({ ...state, dim: state.dim + 1 })).toBe(false);
    expect(new LinUcbPolicy({ ridge: 7 }).importState(state)).toBe(false);
    expect(new LinUcbPolicy().importState({ format: "something-else" })).toBe(false);
  });

  it("forgets everything on reset", () => {
    const policy = new LinUcbPolicy();
    run(policy, 100, 9);
    policy.reset();
    expect(policy.observations()).toEqual({});
    const estimate: Estimate = { mean: 0, upper: 0, sample: 0, observations: 0 };
    policy.estimate("a", CHAT, estimate);
    expect(estimate).toMatchObject({ mean: 0.5, observations: 0 });
    expect(estimate.upper).toBeGreaterThan(0.5);
  });

  it("refuses a feature vector of the wrong length", () => {
    expect(() => new LinUcbPolicy().update("a", { ...CHAT, vector: new Float64Array(3) }, 1)).toThrow(RangeError);
  });
});
