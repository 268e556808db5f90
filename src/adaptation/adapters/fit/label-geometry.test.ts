import { describe, expect, it } from "vitest";
import { seededRng } from "../../../util/rng.js";
import { exampleGeometry, labelGeometry, labelLogits, labelLogitsForDelta } from "./label-geometry.js";

const random = seededRng(3);
const vector = (n: number, scale = 1) => Float64Array.from({ length: n }, () => (random() - 0.5) * 2 * scale);

describe("label geometry", () => {
  const labels = 4;
  const embedding = 48;
  const rows = Float32Array.from(vector(labels * embedding));
  const norm = Float32Array.from({ length: embedding }, () => 0.5 + random());
  const geometry = labelGeometry(rows, norm, labels, 1e-5);

  it("moves each label's pre-norm logit by exactly its own component of a, and no other label's", () => {
    // M·V = I: column k of V raises label k's M-row product by one and leaves the others.
    for (let k = 0; k < labels; k++) {
      for (let c = 0; c < labels; c++) {
        let s = 0;
        for (let j = 0; j < embedding; j++) s += geometry.m[c * embedding + j]! * geometry.v[j * labels + k]!;
        expect(s).toBeCloseTo(c === k ? 1 : 0, 9);
      }
    }
  });

  it("gives the same logits from the K-number form as from the full residual with V·a added", () => {
    const x = vector(embedding, 20);
    const a = vector(labels, 15);
    const delta = new Float64Array(embedding);
    for (let j = 0; j < embedding; j++) for (let k = 0; k < labels; k++) delta[j]! += geometry.v[j * labels + k]! * a[k]!;
    const compact = new Float64Array(labels);
    const full = new Float64Array(labels);
    labelLogits(geometry, exampleGeometry(geometry, x), a, compact);
    labelLogitsForDelta(geometry, x, delta, full);
    for (let k = 0; k < labels; k++) expect(compact[k]).toBeCloseTo(full[k]!, 9);
  });

  it("refuses labels whose output rows are linearly dependent", () => {
    const twice = Float32Array.from([...rows.subarray(0, embedding), ...rows.subarray(0, embedding)]);
    expect(() => labelGeometry(twice, norm, 2, 1e-5)).toThrow(/linearly dependent/);
  });
});
