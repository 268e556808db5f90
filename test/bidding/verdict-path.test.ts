import { describe, expect, it } from "vitest";
import { HashedNgramFeaturizer } from "../../src/bidding/content/hashed.js";
import { NoContentFeaturizer } from "../../src/bidding/content/interface.js";
import { LinUcbPolicy } from "../../src/bidding/selection/linucb.js";
import { LogisticThompsonPolicy } from "../../src/bidding/selection/logistic.js";
import { seededRng } from "../../src/util/rng.js";
import { replay, shuffled, twoModelTable, withContent } from "../bench/routing-replay.js";
import { examTable } from "../bench/routing-tables.js";

/**
 * Live, a free-text answer is learned as valid when it arrives and its verdict comes later as feedback; the replay
 * bench teaches the verdict at once. Both must leave the learner, and the quality target's calibration, in the
 * same place, or what the bench measures is not what a site gets: the content learner once did 5 points worse live
 * than on its own replay (a calibration blind to feedback, a wrong answer keeping 0.2 of the reward, a revision laid
 * on top of the first label). The same order of the same prompts must give the same choices by either path.
 */
describe("a verdict learned through feedback is learned as the verdict itself", () => {
  const table = twoModelTable("exam-like", examTable(11, 600));

  it("for the content learner at its default quality target", async () => {
    const featurizer = new HashedNgramFeaturizer();
    const withFeatures = withContent(table, featurizer);
    const order = shuffled(table.tasks.length, 3);
    const run = (verdict: "check" | "feedback") =>
      replay(withFeatures, order, new LogisticThompsonPolicy({ contentDimension: featurizer.dimension, rng: seededRng(9) }), {}, featurizer, "engine", { verdict });
    const [check, feedback] = [await run("check"), await run("feedback")];
    // Both models were tried, so the comparison is of learning, not of one wholesale choice.
    expect(new Set(check.choices).size).toBe(2);
    expect(Array.from(feedback.choices)).toEqual(Array.from(check.choices));
  });

  it("for LinUCB by the default weights", async () => {
    const featurizer = new NoContentFeaturizer();
    const order = shuffled(table.tasks.length, 4);
    const run = (verdict: "check" | "feedback") => replay(table, order, new LinUcbPolicy(), {}, featurizer, "linucb", { verdict });
    const [check, feedback] = [await run("check"), await run("feedback")];
    expect(Array.from(feedback.choices)).toEqual(Array.from(check.choices));
  });
});
