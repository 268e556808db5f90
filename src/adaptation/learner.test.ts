import { describe, expect, it } from "vitest";
import { seededRng } from "../util/rng.js";
import { AdaptationLearner, type LearnedChoice } from "./learner.js";

const choice = (applied: LearnedChoice["applied"], preset: string | null = null): LearnedChoice => ({
  tenant: "t", taskClass: "task:topic", modelId: "m", eligible: ["exemplars", "parameters"], applied, preset,
});

describe("AdaptationLearner", () => {
  it("leaves a request as sent until something was learned, when it does not explore", () => {
    const learner = new AdaptationLearner(10);
    expect(learner.chooseStrategies("t", "task:topic", "m", ["exemplars", "parameters"], null)).toEqual([]);
    expect(learner.choosePreset("t", "task:topic", "m", null).id).toBe("operator");
    expect(learner.learnedMaxTokens("t", "task:topic", "m")).toBeNull();
  });

  it("learns per strategy which side pays, and Thompson sampling then mostly takes it", () => {
    const learner = new AdaptationLearner(10);
    for (let i = 0; i < 20; i++) {
      learner.learn(choice(["exemplars"]), 0.9, 1);
      learner.learn(choice([]), 0.3, 1);
    }
    expect(learner.chooseStrategies("t", "task:topic", "m", ["exemplars"], null)).toEqual(["exemplars"]);
    const rng = seededRng(7);
    const draws = Array.from({ length: 200 }, () => learner.chooseStrategies("t", "task:topic", "m", ["exemplars"], rng).length);
    expect(draws.reduce((a, b) => a + b, 0)).toBeGreaterThan(180);
    // Another tenant's class with the same name learned nothing.
    expect(learner.chooseStrategies("u", "task:topic", "m", ["exemplars"], null)).toEqual([]);
  });

  it("takes a reward back exactly, so that a revision replaces it", () => {
    const learner = new AdaptationLearner(10);
    learner.learn(choice(["parameters"], "greedy"), 1, 1);
    learner.learn(choice(["parameters"], "greedy"), 1, -1);
    learner.learn(choice(["parameters"], "greedy"), 0, 1);
    const model = learner.classState("t", "task:topic")!.models["m"]!;
    expect(model.presets["greedy"]).toEqual({ wins: 0, losses: 1 });
    expect(model.strategies.parameters!.on).toEqual({ wins: 0, losses: 1 });
    expect(model.strategies.exemplars!.off).toEqual({ wins: 0, losses: 1 });
  });

  it("picks the best sampling preset and learns max_tokens from good answers' lengths", () => {
    const learner = new AdaptationLearner(10);
    for (let i = 0; i < 5; i++) {
      learner.learn(choice(["parameters"], "greedy"), 1, 1);
      learner.learn(choice(["parameters"], "creative"), 0, 1);
      learner.observeLength(choice([]), 10 + i);
    }
    expect(learner.choosePreset("t", "task:topic", "m", null).id).toBe("greedy");
    expect(learner.learnedMaxTokens("t", "task:topic", "m")).toBe(Math.ceil(14 * 1.25) + 4);
  });

  it("survives export and import, refuses another layout, and forgets the least recently used class when full", () => {
    let now = 0;
    const learner = new AdaptationLearner(2, () => now++);
    learner.countFeedback("t", "a", true);
    learner.countFeedback("t", "b", false);
    learner.countFeedback("t", "a", true);
    learner.countFeedback("t", "c", true);
    expect(learner.list().map((c) => c.taskClass).sort()).toEqual(["a", "c"]);
    const copy = new AdaptationLearner(2);
    expect(copy.importState(JSON.parse(JSON.stringify(learner.exportState())))).toBe(true);
    expect(copy.classState("t", "a")).toMatchObject({ feedback: 2, rated: 2 });
    expect(copy.importState({ version: 99, classes: [] })).toBe(false);
  });
});
