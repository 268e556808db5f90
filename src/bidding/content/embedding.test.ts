import { describe, expect, it } from "vitest";
import { seededRng } from "../../util/rng.js";
import { LogisticThompsonPolicy } from "../selection/logistic.js";
import { featuresFromValues } from "../features.js";
import { EmbeddingFeaturizer } from "./embedding.js";

describe("EmbeddingFeaturizer", () => {
  it("hands the request's embedding to the learner as a dense block, in a layout naming the model and size", () => {
    const featurizer = new EmbeddingFeaturizer("minilm-l6-v2", 4);
    const content = featurizer.featurize({ kind: "chat", text: "ignored: the embedding is what is read", embedding: [0.5, -0.5, 0.5, -0.5] });
    expect([...content.indices]).toEqual([0, 1, 2, 3]);
    expect([...content.values]).toEqual([0.5, -0.5, 0.5, -0.5]);
    expect(featurizer.layout).toBe("embedding/1:minilm-l6-v2:4");
    expect(featurizer.needsEmbedding).toBe(true);
  });

  it("reads no content from a request without an embedding, or with one of another size, rather than misplacing it", () => {
    const featurizer = new EmbeddingFeaturizer("minilm-l6-v2", 4);
    expect(featurizer.featurize({ kind: "chat", text: "no embedding" }).indices).toHaveLength(0);
    expect(featurizer.featurize({ kind: "chat", text: "wrong size", embedding: [1, 0, 0] }).indices).toHaveLength(0);
  });

  it("lets the learner tell requests apart by where their embeddings point", () => {
    // Two directions of the embedding space: the cheap model succeeds on one, fails on the other.
    const featurizer = new EmbeddingFeaturizer("e", 8);
    const around = (axis: number, rng: () => number) => {
      const v = Array.from({ length: 8 }, () => 0.1 * (rng() - 0.5));
      v[axis] = 1;
      const norm = Math.hypot(...v);
      return v.map((x) => x / norm);
    };
    const rng = seededRng(5);
    const policy = new LogisticThompsonPolicy({ contentDimension: featurizer.dimension, rng: seededRng(6) });
    const input = (axis: number) => featuresFromValues({ taskType: "chat", inputTokens: 50 }, featurizer.featurize({ kind: "chat", text: "", embedding: around(axis, rng) }));
    for (let i = 0; i < 200; i++) {
      policy.update("cheap", input(0), 1);
      policy.update("cheap", input(1), 0);
    }
    const out = { mean: 0, upper: 0, sample: 0, observations: 0 };
    policy.estimate("cheap", input(0), out);
    const onEasy = out.mean;
    policy.estimate("cheap", input(1), out);
    expect(onEasy).toBeGreaterThan(0.8);
    expect(out.mean).toBeLessThan(0.2);
  });
});
