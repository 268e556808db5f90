import { describe, expect, it } from "vitest";
import { PerformanceEstimates } from "./estimates.js";
import { featuresFromValues } from "./features.js";
import { MemoryBiddingStore } from "./store/memory.js";
import { PerformanceTracker, withFeedback, type ExecutionOutcome } from "./tracker.js";

const FEATURES = featuresFromValues({ taskType: "structured", inputTokens: 300, schemaProperties: 4, schemaDepth: 1 });
const STORED = { featureVersion: 2, contentLayout: "none", vector: [...FEATURES.vector], indices: [], values: [] };

function outcome(overrides: Partial<ExecutionOutcome> = {}): ExecutionOutcome {
  return { executionId: "e1", modelId: "m", promptTokens: 300, completionTokens: 60, queueMs: 0, inferenceMs: 1000, schemaValid: true, ...overrides };
}

function tracker(store = new MemoryBiddingStore(), estimates = new PerformanceEstimates()) {
  return new PerformanceTracker(store, estimates, {}, () => new Date("2025-01-01T00:00:00Z"));
}

describe("PerformanceTracker", () => {
  it("rewards a valid, timely answer fully and a failed or invalid one with nothing", () => {
    const t = tracker();
    expect(t.automaticReward(outcome(), 1000)).toBe(1);
    expect(t.automaticReward(outcome({ schemaValid: false }), 1000)).toBe(0);
    expect(t.automaticReward(outcome({ errorCode: "model_crashed" }), 1000)).toBe(0);
    expect(t.automaticReward(outcome({ errorCode: "structured_output_invalid", schemaValid: false }), 1000)).toBe(0);
    // Free text has no validity check: absent means not checked, not invalid.
    expect(t.automaticReward(outcome({ schemaValid: null }), 1000)).toBe(1);
  });

  it("learns nothing from errors that say nothing about the model", () => {
    const t = tracker();
    expect(t.automaticReward(outcome({ errorCode: "request_aborted" }), 1000)).toBeNull();
    expect(t.automaticReward(outcome({ errorCode: "model_overloaded" }), 1000)).toBeNull();
  });

  it("takes off for extra structured attempts and for running late against the bid", () => {
    const t = tracker();
    expect(t.automaticReward(outcome({ attempts: 2 }), 1000)).toBe(0.75);
    // Up to 1.5× the bid is on time; the penalty grows to 0.25 at 3×.
    expect(t.automaticReward(outcome({ inferenceMs: 1500 }), 1000)).toBe(1);
    expect(t.automaticReward(outcome({ queueMs: 500, inferenceMs: 1750 }), 1000)).toBeCloseTo(1 - 0.25 * 0.5, 12);
    expect(t.automaticReward(outcome({ inferenceMs: 10_000 }), 1000)).toBe(0.75);
    // No bid (an explicitly named model): latency is not judged.
    expect(t.automaticReward(outcome({ inferenceMs: 10_000 }), null)).toBe(1);
  });

  it("takes explicit feedback as what the answer was worth, less what its delivery cost", () => {
    // A wrong answer is worth nothing however well it parsed; a right one loses what lateness or retries took.
    expect(withFeedback(1, 0)).toBe(0);
    expect(withFeedback(1, 0.6)).toBeCloseTo(0.6, 12);
    expect(withFeedback(0.75, 1)).toBeCloseTo(0.75, 12);
    expect(withFeedback(0, 1)).toBe(0);
    expect(withFeedback(null, 0.4)).toBe(0.4);
  });

  it("records the execution with its features and reward, and feeds the speed and token estimates", async () => {
    const store = new MemoryBiddingStore();
    const estimates = new PerformanceEstimates();
    const tracked = await tracker(store, estimates).record(outcome(), { features: FEATURES, stored: STORED, expectedLatencyMs: 900, learn: true, learnerEpoch: 2 });

    expect(tracked.learnReward).toBe(1);
    expect(tracked.record).toMatchObject({
      executionId: "e1", microtaskId: "task", modelId: "m", taskType: "structured", contextKey: FEATURES.key, promptTokens: 300,
      completionTokens: 60, expectedLatencyMs: 900, errorCode: null, schemaValid: true, automaticReward: 1, reward: 1, learnedReward: 1, learnerEpoch: 2,
    });
    expect(tracked.record.features).toEqual(STORED);
    expect(await store.getOutcomes("e1")).toEqual([tracked.record]);
    expect(estimates.speed("m").observations).toBe(1);
  });

  it("records but does not learn while learning is off", async () => {
    const estimates = new PerformanceEstimates();
    const tracked = await tracker(new MemoryBiddingStore(), estimates).record(outcome(), { features: FEATURES, stored: STORED, expectedLatencyMs: null, learn: false, learnerEpoch: 0 });
    expect(tracked.learnReward).toBeNull();
    expect(tracked.record.learnedReward).toBeNull();
    expect(tracked.record.automaticReward).toBe(1);
    expect(estimates.speed("m").observations).toBe(0);
  });

  it("counts feedback that arrived before the outcome", async () => {
    const store = new MemoryBiddingStore();
    await store.saveDecision({ executionId: "e1" } as never);
    await store.applyFeedback({ executionId: "e1", score: 0.4, tenant: null, comment: null }, () => []);
    const tracked = await tracker(store).record(outcome(), { features: FEATURES, stored: STORED, expectedLatencyMs: 1000, learn: true, learnerEpoch: 0 });
    expect(tracked.learnReward).toBeCloseTo(0.4, 12);
    expect((await store.getOutcomes("e1"))[0]).toMatchObject({ automaticReward: 1, reward: tracked.learnReward, learnedReward: tracked.learnReward });
  });
});
