import { describe, expect, it } from "vitest";
import { HashedNgramFeaturizer } from "../../src/bidding/content/hashed.js";
import { CriteriaSchema } from "../../src/bidding/criteria.js";
import { LogisticThompsonPolicy } from "../../src/bidding/selection/logistic.js";
import { seededRng } from "../../src/util/rng.js";
import { operatingPoint, replay, shuffled, twoModelTable, withContent, type Table } from "../bench/routing-replay.js";
import { examTable, mathTable } from "../bench/routing-tables.js";

/**
 * The same prompts in another order must not give another routing. Before content features and the quality target,
 * the learner sent the same 1,300 word problems to the strong model anywhere from 8 % to 99.7 % of the time depending
 * on the order alone, switching wholesale between the two models. Five shuffles of the generated two-model tables
 * (test/bench/routing-tables.ts), learning online from empty with the content-reading engine at a quality target.
 */
const SHUFFLES = 5;

async function atTarget(table: Table, target: number): Promise<Array<{ strongShare: number; qualityRatio: number }>> {
  const featurizer = new HashedNgramFeaturizer();
  const withFeatures = withContent(table, featurizer);
  const criteria = CriteriaSchema.parse({ qualityTarget: target });
  const strongQuality = table.tasks.reduce((sum, task) => sum + task.outcomes[1]!.score, 0) / table.tasks.length;
  const runs = [];
  for (let shuffle = 1; shuffle <= SHUFFLES; shuffle++) {
    const policy = new LogisticThompsonPolicy({ contentDimension: featurizer.dimension, rng: seededRng(shuffle * 7919 + 17) });
    const { choices } = await replay(withFeatures, shuffled(table.tasks.length, 5000 + shuffle), policy, criteria, featurizer, "engine");
    const point = operatingPoint(table, choices);
    runs.push({ strongShare: point.share, qualityRatio: point.quality / strongQuality });
  }
  return runs;
}

function spread(values: number[]): number {
  return Math.max(...values) - Math.min(...values);
}

describe("routing does not depend on the order prompts arrive in", () => {
  it("sends math word problems to the strong model in the same share, within a few points, over five shuffles", async () => {
    const runs = await atTarget(twoModelTable("math-like", mathTable(7)), 0.95);
    const shares = runs.map((run) => run.strongShare);
    expect(spread(shares), JSON.stringify(runs)).toBeLessThanOrEqual(0.1);
    expect(spread(runs.map((run) => run.qualityRatio)), JSON.stringify(runs)).toBeLessThanOrEqual(0.05);
    // Neither wholesale choice: it routes per request. At this target the engine's curve needs about 90 % strong
    // calls on this table (the text's cues alone, known in hindsight, 82 %): 99 % means it stopped routing.
    for (const share of shares) expect(share).toBeGreaterThan(0.05);
    for (const share of shares) expect(share).toBeLessThan(0.99);
  });

  it("does the same on multi-subject exam questions", async () => {
    const runs = await atTarget(twoModelTable("exam-like", examTable(7, 3000)), 0.95);
    const shares = runs.map((run) => run.strongShare);
    expect(spread(shares), JSON.stringify(runs)).toBeLessThanOrEqual(0.1);
    expect(spread(runs.map((run) => run.qualityRatio)), JSON.stringify(runs)).toBeLessThanOrEqual(0.05);
    for (const share of shares) expect(share).toBeGreaterThan(0.05);
    for (const share of shares) expect(share).toBeLessThan(0.98);
  });
});
