import { describe, expect, it } from "vitest";
import { NoEligibleModelError, FeedbackError, UnknownExecutionError } from "./errors.js";
import type { BiddingRequest, Candidate } from "./request.js";
import { BiddingRouter } from "./router.js";
import { MemoryBiddingStore } from "./store/memory.js";
import { HashedNgramFeaturizer } from "./content/hashed.js";

function candidate(id: string, per1k: number): Candidate {
  return {
    id, cost: { unit: "compute-seconds", per1kPromptTokens: per1k, per1kCompletionTokens: 3 * per1k }, contextLength: 8192,
    parallel: 2, strength: per1k, state: "ready", inFlight: 0, queued: 0,
  };
}

const CANDIDATES = [candidate("cheap", 0.05), candidate("strong", 1)];
const REQUEST: BiddingRequest = { kind: "task", text: "Extract the invoice number from: INV-2291 dated May 3", instructions: "Extract fields" };

describe("BiddingRouter", () => {
  it("routes, learns from outcomes, and comes to prefer the model that succeeds", async () => {
    const router = new BiddingRouter({ store: new MemoryBiddingStore() });
    const picks: string[] = [];
    for (let i = 0; i < 300; i++) {
      const decision = await router.route({ executionId: `e${i}`, request: REQUEST, candidates: CANDIDATES });
      picks.push(decision.modelId);
      // The cheap model fails this kind of task four times in five; the strong one always succeeds.
      const success = decision.modelId === "strong" || i % 5 === 0;
      await router.recordOutcome({ executionId: `e${i}`, modelId: decision.modelId, promptTokens: 40, completionTokens: 10, queueMs: 0, inferenceMs: 200, schemaValid: success });
    }
    expect(picks.slice(-100).filter((m) => m === "strong").length).toBeGreaterThan(90);
    expect(router.state().models.strong!.observations).toBeGreaterThan(100);
  });

  it("tracks an execution whose model the caller named, given the request", async () => {
    const store = new MemoryBiddingStore();
    const router = new BiddingRouter({ store });
    const outcome = { executionId: "explicit", modelId: "strong", promptTokens: 10, completionTokens: 5, queueMs: 1, inferenceMs: 100 };
    await expect(router.recordOutcome(outcome)).rejects.toBeInstanceOf(UnknownExecutionError);
    const record = await router.recordOutcome(outcome, REQUEST);
    expect(record).toMatchObject({ executionId: "explicit", modelId: "strong", expectedLatencyMs: null, automaticReward: 1, learnedReward: 1 });
    expect(router.state().models.strong!.observations).toBe(1);
    expect(await store.hasExecution("explicit")).toBe(true);
  });

  it("lets feedback revise the quality target's calibration, also after a restart", async () => {
    // Every answer arrives valid and is judged wrong later: a calibration blind to feedback would see the target
    // met and widen the slack; with the feedback it sees the shortfall and narrows it.
    const run = async (judge: boolean, restartBeforeFeedback: boolean) => {
      const store = new MemoryBiddingStore();
      let router = new BiddingRouter({ store, criteria: { qualityTarget: 0.95 }, saveEvery: 1 });
      for (let i = 0; i < 40; i++) {
        const decision = await router.route({ executionId: `e${i}`, request: REQUEST, candidates: CANDIDATES });
        await router.recordOutcome({ executionId: `e${i}`, modelId: decision.modelId, promptTokens: 40, completionTokens: 10, queueMs: 0, inferenceMs: 50 });
      }
      if (restartBeforeFeedback) {
        await router.checkpoint();
        router = new BiddingRouter({ store, criteria: { qualityTarget: 0.95 }, saveEvery: 1 });
        await router.load();
      }
      if (judge) for (let i = 0; i < 40; i++) await router.recordFeedback({ executionId: `e${i}`, score: 0 });
      return router.state().qualityCalibration;
    };
    const unjudged = await run(false, false);
    expect(unjudged).toBeGreaterThan(1);
    expect(await run(true, false)).toBeLessThan(1);
    expect(await run(true, true)).toBeLessThan(1);
  });

  it("revises the learned reward on feedback and refuses feedback for unknown executions", async () => {
    const store = new MemoryBiddingStore();
    const router = new BiddingRouter({ store });
    const decision = await router.route({ executionId: "e1", request: REQUEST, candidates: CANDIDATES });
    await router.recordOutcome({ executionId: "e1", modelId: decision.modelId, promptTokens: 10, completionTokens: 5, queueMs: 0, inferenceMs: 50 });

    const result = await router.recordFeedback({ executionId: "e1", score: 0, tenant: "acme" });
    expect(result).toEqual({ executionId: "e1", outcomes: 1, learned: 1 });
    expect((await store.getOutcomes("e1"))[0]).toMatchObject({ automaticReward: 1, reward: 0, learnedReward: 0 });
    expect(await store.listFeedback("e1")).toMatchObject([{ executionId: "e1", score: 0, tenant: "acme" }]);

    await expect(router.recordFeedback({ executionId: "nope", score: 1 })).rejects.toBeInstanceOf(UnknownExecutionError);
    await expect(router.recordFeedback({ executionId: "e1", score: 1.5 })).rejects.toBeInstanceOf(FeedbackError);
    await expect(router.recordFeedback({ executionId: "e1", score: Number.NaN })).rejects.toBeInstanceOf(FeedbackError);
    // Feedback for a decided execution whose outcome has not arrived yet is kept for it.
    await router.route({ executionId: "e2", request: REQUEST, candidates: CANDIDATES });
    expect(await router.recordFeedback({ executionId: "e2", score: 1 })).toEqual({ executionId: "e2", outcomes: 0, learned: 0 });
  });

  it("keeps choosing but stops learning while frozen, and learns again once unfrozen", async () => {
    const router = new BiddingRouter({ store: new MemoryBiddingStore() });
    const decide = (id: string) => router.decide({ executionId: id, request: REQUEST, candidates: CANDIDATES });
    const learn = (id: string, model: string) => router.recordOutcome({ executionId: id, modelId: model, promptTokens: 10, completionTokens: 5, queueMs: 0, inferenceMs: 50 });
    await learn("warm", decide("warm").modelId);
    await router.freeze();
    const before = JSON.stringify(router.exportState());
    const decision = decide("frozen");
    expect(decision.record.policy.frozen).toBe(true);
    const record = await learn("frozen", decision.modelId);
    expect(record.learnedReward).toBeNull();
    expect(await router.recordFeedback({ executionId: "frozen", score: 0 })).toMatchObject({ learned: 0 });
    expect(JSON.stringify(router.exportState())).toBe(before);
    await router.unfreeze();
    await learn("thawed", decide("thawed").modelId);
    expect(JSON.stringify(router.exportState())).not.toBe(before);
  });

  it("throws no_eligible_model when the criteria leave no candidate", () => {
    const router = new BiddingRouter({ store: new MemoryBiddingStore() });
    const attempt = () => router.decide({ executionId: "e", request: REQUEST, candidates: CANDIDATES, criteria: { constraints: { maxCost: 0 } } });
    expect(attempt).toThrow(NoEligibleModelError);
    expect(attempt).toThrow(/cheap \(max_cost\); strong \(max_cost\)/);
    expect(() => router.decide({ executionId: "e", request: REQUEST, candidates: [] })).toThrow(NoEligibleModelError);
  });

  it("applies request criteria over tenant criteria over its global ones", () => {
    const router = new BiddingRouter({ store: new MemoryBiddingStore(), criteria: { constraints: { maxCost: 100 } } });
    const decision = router.decide({
      executionId: "e", request: REQUEST, candidates: CANDIDATES,
      tenantCriteria: { constraints: { maxCost: 1, maxLatencyMs: 1e9 } },
      criteria: { constraints: { maxLatencyMs: 1e8 } },
    });
    expect(decision.record.criteria.constraints).toEqual({ maxCost: 1, maxLatencyMs: 1e8, minConfidence: null });
    expect(decision.record.criteria.sources).toMatchObject({ maxCost: "tenant", maxLatencyMs: "request", minConfidence: "default" });
  });

  it("learns the outcome of a decision it no longer holds in memory from the stored record", async () => {
    const store = new MemoryBiddingStore();
    // With a content featurizer, so that the stored record must give back content features too.
    const first = new BiddingRouter({ store, featurizer: new HashedNgramFeaturizer() });
    const decision = await first.route({ executionId: "e1", request: REQUEST, candidates: CANDIDATES });
    const second = new BiddingRouter({ store, featurizer: new HashedNgramFeaturizer() });
    const record = await second.recordOutcome({ executionId: "e1", modelId: decision.modelId, promptTokens: 10, completionTokens: 5, queueMs: 0, inferenceMs: 10 });
    const seen = decision.record.microtasks[0]!.features!;
    expect(record.features).toMatchObject({ vector: seen.vector, indices: seen.content!.indices, values: seen.content!.values });
    expect(record.expectedLatencyMs).toBe(decision.assignments[0]!.expectedLatencyMs);
    expect(second.state().models[decision.modelId]!.observations).toBe(1);
  });
});
