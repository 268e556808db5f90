import { describe, expect, it } from "vitest";
import { HashedNgramFeaturizer } from "../content/hashed.js";
import { featuresFromValues, type TaskFeatures } from "../features.js";
import { seededRng } from "../../util/rng.js";
import type { Estimate } from "./interface.js";
import { LogisticThompsonPolicy } from "./logistic.js";

const featurizer = new HashedNgramFeaturizer({ bits: 14 });
const SUBJECTS = ["geometry triangle angle", "poetry rhyme stanza", "chemistry acid molecule", "history empire treaty", "biology cell enzyme"];
/** The true success rate of a model on a subject, and a request about it. */
const TRUTH = [0.9, 0.3, 0.7, 0.5, 0.15];

function request(rng: () => number): { features: TaskFeatures; subject: number } {
  const subject = Math.floor(rng() * SUBJECTS.length);
  const words = SUBJECTS[subject]!.split(" ");
  const text = `Question about ${words[Math.floor(rng() * 3)]} and ${words[Math.floor(rng() * 3)]} number ${Math.floor(rng() * 100)}`;
  return { features: featuresFromValues({ taskType: "chat", inputTokens: 20 }, featurizer.featurize({ kind: "chat", text })), subject };
}

function trained(seed: number, count: number): LogisticThompsonPolicy {
  const rng = seededRng(seed);
  const policy = new LogisticThompsonPolicy({ contentDimension: featurizer.dimension, rng: seededRng(seed + 1) });
  for (let i = 0; i < count; i++) {
    const { features, subject } = request(rng);
    policy.update("m", features, rng() < TRUTH[subject]! ? 1 : 0);
  }
  return policy;
}

describe("LogisticThompsonPolicy", () => {
  it("ranks and roughly calibrates: on a held-out stream, bins of predicted success order like the observed rates", () => {
    const policy = trained(1, 4000);
    const rng = seededRng(99);
    const bins = Array.from({ length: 5 }, () => ({ predicted: 0, observed: 0, n: 0 }));
    const estimate: Estimate = { mean: 0, upper: 0, sample: 0, observations: 0 };
    for (let i = 0; i < 4000; i++) {
      const { features, subject } = request(rng);
      policy.estimate("m", features, estimate);
      const bin = bins[Math.min(4, Math.floor(estimate.mean * 5))]!;
      bin.predicted += estimate.mean;
      bin.observed += rng() < TRUTH[subject]! ? 1 : 0;
      bin.n += 1;
    }
    // Measured: after these 4,000 outcomes predictions run 4–8 points above the observed rate in every bin. It is
    // noise common to every request, not a bias: followed every 500 outcomes, the subjects' deviations wander
    // together by ±5–7 points and average 2 points (1.9–2.5 over four seeds). The diagonal posterior treats the
    // features every request carries (intercept, task type, common words) as independent, so an outcome moves
    // their shared direction several times too far. Not yet the "few points" the issue asks for at every moment:
    // the quality target's calibration (calibration.ts) corrects the level where choices are made, and this test
    // pins how far the learner alone goes.
    const filled = bins.filter((b) => b.n >= 200);
    expect(filled.length).toBeGreaterThanOrEqual(3);
    for (const bin of filled) expect(Math.abs(bin.predicted / bin.n - bin.observed / bin.n)).toBeLessThan(0.1);
    const observed = filled.map((b) => b.observed / b.n);
    expect([...observed].sort((a, b) => a - b)).toEqual(observed);
  });

  it("samples from its posterior reproducibly for a seed, widely for what it has not seen, narrowly for what it has", () => {
    const draws = (seed: number) => {
      const policy = trained(2, 2000);
      const fresh = new LogisticThompsonPolicy({ contentDimension: featurizer.dimension, rng: seededRng(seed) });
      const { features } = request(seededRng(5));
      const estimate: Estimate = { mean: 0, upper: 0, sample: 0, observations: 0 };
      const known: number[] = [];
      const unknown: number[] = [];
      for (let i = 0; i < 300; i++) {
        policy.estimate("m", features, estimate);
        known.push(estimate.sample);
        fresh.estimate("m", features, estimate);
        unknown.push(estimate.sample);
      }
      return { known, unknown };
    };
    expect(draws(3)).toEqual(draws(3));
    const spread = (xs: number[]) => Math.max(...xs) - Math.min(...xs);
    const { known, unknown } = draws(3);
    expect(spread(unknown)).toBeGreaterThan(1.3 * spread(known));
  });

  it("takes graded scores as soft labels and revises a label", () => {
    const policy = new LogisticThompsonPolicy({ contentDimension: featurizer.dimension, rng: seededRng(1) });
    const { features } = request(seededRng(7));
    for (let i = 0; i < 400; i++) policy.update("m", features, 0.3);
    const estimate: Estimate = { mean: 0, upper: 0, sample: 0, observations: 0 };
    policy.estimate("m", features, estimate);
    expect(estimate.mean).toBeCloseTo(0.3, 1);
    policy.revise("m", features, 0.3, 1);
    const revised = { ...estimate };
    policy.estimate("m", features, revised);
    expect(revised.mean).toBeGreaterThan(estimate.mean);
  });

  it("revises an outcome as if its final label had been learned in the first place", () => {
    // The gateway learns a valid answer as right, then feedback says it was wrong: the learner must end where
    // learning "wrong" once would have left it, not with the first label's confidence still in its precisions.
    const revised = trained(5, 300);
    const direct = trained(5, 300);
    const { features } = request(seededRng(13));
    revised.update("m", features, 1);
    revised.revise("m", features, 1, 0);
    direct.update("m", features, 0);
    const a: Estimate = { mean: 0, upper: 0, sample: 0, observations: 0 };
    const b: Estimate = { ...a };
    revised.estimate("m", features, a);
    direct.estimate("m", features, b);
    expect(a.mean).toBeCloseTo(b.mean, 4);
    expect(a.upper).toBeCloseTo(b.upper, 4);
    expect(a.observations).toBe(b.observations);
  });

  it("round-trips its state as JSON, and refuses state of another index space or prior", () => {
    const policy = trained(3, 500);
    const state = JSON.parse(JSON.stringify(policy.exportState()));
    const restored = new LogisticThompsonPolicy({ contentDimension: featurizer.dimension, rng: seededRng(1) });
    expect(restored.importState(state)).toBe(true);
    expect(restored.exportState()).toEqual(policy.exportState());
    const { features } = request(seededRng(11));
    const [a, b]: Estimate[] = [{ mean: 0, upper: 0, sample: 0, observations: 0 }, { mean: 0, upper: 0, sample: 0, observations: 0 }];
    policy.estimate("m", features, a!);
    restored.estimate("m", features, b!);
    expect(b!.mean).toBeCloseTo(a!.mean, 6);
    expect(new LogisticThompsonPolicy({ contentDimension: 64, rng: seededRng(1) }).importState(state)).toBe(false);
    expect(new LogisticThompsonPolicy({ contentDimension: featurizer.dimension, rng: seededRng(1), modelPrecision: 2 }).importState(state)).toBe(false);
    expect(restored.importState({ format: "linucb/2" })).toBe(false);
  });

  it("keeps what every model learned when another model joins (the weight table widens under them)", () => {
    const policy = trained(4, 300);
    const before = policy.exportState();
    const rng = seededRng(12);
    for (const model of ["second", "third"]) for (let i = 0; i < 50; i++) policy.update(model, request(rng).features, i % 2);
    const after = policy.exportState();
    expect(after.models["m"]).toEqual(before.models["m"]);
    expect(Object.keys(after.models).sort()).toEqual(["m", "second", "third"]);
    expect(after.models["second"]!.n).toBe(50);
    expect(after.shared!.n).toBe(400);
  });

  it("refuses content outside its index space", () => {
    const policy = new LogisticThompsonPolicy({ contentDimension: 8, rng: seededRng(1) });
    const features = featuresFromValues({ taskType: "chat", inputTokens: 5 }, { indices: Int32Array.of(9), values: Float32Array.of(1) });
    expect(() => policy.update("m", features, 1)).toThrow(RangeError);
  });
});
