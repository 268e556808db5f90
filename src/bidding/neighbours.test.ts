import { describe, expect, it } from "vitest";
import { seededRng } from "../util/rng.js";
import { EmbeddingFeaturizer } from "./content/embedding.js";
import { RecentOutcomes } from "./neighbours.js";
import type { Candidate } from "./request.js";
import { BiddingRouter } from "./router.js";
import { LogisticThompsonPolicy } from "./selection/logistic.js";
import { MemoryBiddingStore } from "./store/memory.js";

/** A unit vector near axis `axis` of an 8-dimensional space. */
function around(axis: number, rng: () => number): Float32Array {
  const v = Array.from({ length: 8 }, () => 0.1 * (rng() - 0.5));
  v[axis] = 1;
  const norm = Math.hypot(...v);
  return Float32Array.from(v, (x) => x / norm);
}

describe("RecentOutcomes", () => {
  it("finds a model's most similar past requests, with the reward in force, and forgets the oldest first", () => {
    const rng = seededRng(3);
    const recent = new RecentOutcomes(8, 4);
    recent.record("a", "task", "cheap", around(0, rng), 1);
    recent.record("b", "task", "cheap", around(1, rng), 0);
    recent.record("c", "task", "strong", around(0, rng), 1);
    recent.record("d", "task", "cheap", around(0, rng), 1);
    const query = around(0, rng);
    expect(recent.nearest("cheap", query, 2).map((n) => n.execution).sort()).toEqual(["a", "d"]);
    expect(recent.nearest("cheap", query, 3).map((n) => n.execution)).toHaveLength(3);
    expect(recent.nearest("cheap", query, 3)[2]).toMatchObject({ execution: "b", reward: 0 });
    expect(recent.nearest("strong", query, 3).map((n) => n.execution)).toEqual(["c"]);
    const [first] = recent.nearest("cheap", query, 1);
    expect(first!.similarity).toBeGreaterThan(0.9);

    recent.revise("a", "task", 0.25);
    expect(recent.nearest("cheap", query, 3).find((n) => n.execution === "a")!.reward).toBe(0.25);
    // A fifth outcome takes the oldest one's place; a revision of what is gone changes nothing.
    recent.record("e", "task", "cheap", around(1, rng), 1);
    expect(recent.nearest("cheap", query, 5).map((n) => n.execution).sort()).toEqual(["b", "d", "e"]);
    recent.revise("a", "task", 1);
    expect(recent.nearest("cheap", query, 5).map((n) => n.execution).sort()).toEqual(["b", "d", "e"]);
    // A request routed on its shape alone (no embedding) is neither kept nor searched with.
    recent.record("f", "task", "cheap", new Float32Array(0), 1);
    expect(recent.nearest("cheap", new Float32Array(0), 3)).toEqual([]);
  });
});

describe("decisions made on embeddings", () => {
  it("are explained by the nearest past requests each model answered, rewards revised by feedback", async () => {
    const featurizer = new EmbeddingFeaturizer("e", 8);
    const router = new BiddingRouter({
      store: new MemoryBiddingStore(), featurizer,
      policy: new LogisticThompsonPolicy({ contentDimension: featurizer.dimension, rng: seededRng(2) }),
    });
    const candidate = (id: string, per1k: number): Candidate => ({
      id, cost: { unit: "compute-seconds", per1kPromptTokens: per1k, per1kCompletionTokens: per1k }, contextLength: 8192, parallel: 1, strength: per1k, state: "ready", inFlight: 0, queued: 0,
    });
    const candidates = [candidate("cheap", 0.01), candidate("strong", 1)];
    const rng = seededRng(4);
    // The cheap model fails every request near axis 1, as the site's raters say after the fact.
    for (let i = 0; i < 60; i++) {
      const axis = i % 2;
      const decision = await router.route({ executionId: `e${i}`, request: { kind: "chat", text: "", embedding: [...around(axis, rng)] }, candidates });
      await router.recordOutcome({ executionId: `e${i}`, modelId: decision.modelId, promptTokens: 20, completionTokens: 5, queueMs: 0, inferenceMs: 10 });
      await router.recordFeedback({ executionId: `e${i}`, score: decision.modelId === "cheap" && axis === 1 ? 0 : 1 });
    }
    const { record } = router.decide({ executionId: "why", request: { kind: "chat", text: "", embedding: [...around(1, rng)] }, candidates });
    const explanation = record.microtasks[0]!.choice!.explanation!;
    const cheap = explanation.find((e) => e.model === "cheap");
    expect(cheap?.terms).toBeUndefined();
    // Its nearest precedents are requests near axis 1, which it failed: why it was passed over, or why it is risky.
    expect(cheap!.neighbours!.length).toBeGreaterThan(0);
    for (const neighbour of cheap!.neighbours!) {
      expect(Number(neighbour.execution.slice(1)) % 2).toBe(1);
      expect(neighbour.reward).toBe(0);
      expect(neighbour.similarity).toBeGreaterThan(0.9);
    }
  });
});
