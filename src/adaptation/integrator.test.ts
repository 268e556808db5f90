import { describe, expect, it } from "vitest";
import type { RatedExamples, Rating } from "./exemplars/interface.js";
import { BanditFeedbackIntegrator, type ExecutionRef } from "./integrator.js";
import { AdaptationLearner } from "./learner.js";
import type { AdaptationRecord } from "./record.js";
import { MemoryAdaptationStateStore } from "./store/memory.js";

class Ratings implements RatedExamples {
  readonly rated: Rating[] = [];
  async rate(rating: Rating) {
    this.rated.push(rating);
  }
  async find() {
    return [];
  }
}

const record = (reward: AdaptationRecord["reward"], strategies: AdaptationRecord["strategies"] = ["exemplars"]): AdaptationRecord => ({
  taskClass: "task:topic", mode: "explore", eligible: ["exemplars", "parameters"], strategies, preset: null, sources: {},
  adapter: null, exemplars: [], exemplarTokens: 0, budget: { exemplars: 4, exemplarTokens: 512 }, reward,
});
const execution = (id: string, rec: AdaptationRecord): ExecutionRef => ({ executionId: id, tenant: "t", modelId: "m", record: rec, completionTokens: 5, finished: true });

function open(store = new MemoryAdaptationStateStore(), ratings = new Ratings()) {
  return new BanditFeedbackIntegrator(new AdaptationLearner(100), store, ratings, { minScore: 0.75, saveEvery: 2 });
}

describe("the feedback integrator", () => {
  it("learns structured outcomes at once, free text only once judged, and a second score replaces the first", async () => {
    const integrator = open();
    integrator.outcome(execution("a", record({ automatic: 0, learned: true })));
    integrator.outcome(execution("b", record({ automatic: 1, learned: false })));
    const arms = () => integrator.learner.classState("t", "task:topic")!.models["m"]!.strategies.exemplars!.on;
    expect(arms()).toEqual({ wins: 0, losses: 1 });
    await integrator.feedback(execution("b", record({ automatic: 1, learned: false })), "internal", 1);
    expect(arms()).toEqual({ wins: 1, losses: 1 });
    await integrator.feedback(execution("b", record({ automatic: 1, learned: false })), "internal", 0);
    // 0 × 1: the earlier score is gone, and a wrong answer keeps nothing for having arrived.
    expect(arms().wins).toBeCloseTo(0);
    expect(arms().losses).toBeCloseTo(2);
    expect(integrator.learner.classState("t", "task:topic")).toMatchObject({ feedback: 1, rated: 1 });
  });

  it("keeps ratings while frozen but learns nothing, and restarts from what it saved", async () => {
    const store = new MemoryAdaptationStateStore();
    const ratings = new Ratings();
    const integrator = open(store, ratings);
    await integrator.load();
    await integrator.feedback(execution("a", record({ automatic: 1, learned: false })), "internal", 1);
    await integrator.freeze();
    await integrator.feedback(execution("b", record({ automatic: 1, learned: false })), "confidential", 1);
    expect(ratings.rated.map((r) => [r.executionId, r.classification])).toEqual([["a", "internal"], ["b", "confidential"]]);
    const restarted = open(store);
    await restarted.load();
    expect(restarted.frozen).toBe(true);
    expect(restarted.learner.classState("t", "task:topic")).toMatchObject({ feedback: 1, rated: 1 });
    await restarted.reset();
    expect(restarted.state()).toMatchObject({ classes: 0, version: 2 });
  });
});
