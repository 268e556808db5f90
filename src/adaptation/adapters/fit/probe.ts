import { seededRng, type Rng } from "../../../util/rng.js";
import { labelLogits, type ExampleGeometry, type LabelGeometry } from "./label-geometry.js";

/**
 * A linear probe on the last block's feed-forward activation u, fitted so that the adapter it becomes makes the
 * model's label logits (label-geometry.ts) say the right label: softmax cross-entropy of z(a), a = A·u, plus an L2
 * penalty, by mini-batch Adam from A = 0 (the base model). The fit works on standardised features and folds the
 * standardisation back into A, which must be linear in u (a LoRA has no bias): the constant term rides on
 * t = q·u with q = μ/|μ|², which is 1 at the mean activation and stays close to it (the last prompt token is the
 * same for every example).
 */

export interface ProbeExample {
  /** The last block's feed-forward activation at the answer position. */
  u: Float32Array;
  geometry: ExampleGeometry;
  label: number;
}

export interface ProbeOptions {
  /** L2 penalty on the standardised weights. */
  l2: number;
  /** Adam steps, each on `batchSize` examples. */
  steps: number;
  batchSize: number;
  learningRate: number;
  /** Seeds the order of the examples in the batches. */
  seed: number;
}

export const DEFAULT_PROBE_OPTIONS: ProbeOptions = { l2: 1e-3, steps: 200, batchSize: 32, learningRate: 0.05, seed: 1 };

/** K rows of n_ff: a = A·u. */
export interface Probe {
  a: Float32Array;
  labels: number;
  inputs: number;
}

export function fitProbe(geometry: LabelGeometry, examples: readonly ProbeExample[], options: ProbeOptions = DEFAULT_PROBE_OPTIONS): Probe {
  const k = geometry.labels;
  const n = examples.length;
  const f = examples[0]!.u.length;
  const { mean, scale, q } = standardisation(examples, f);
  // Features v = u/σ − (μ/σ)·t and t = q·u: both linear in u, v roughly centred, t roughly 1.
  const v = new Float32Array(n * f);
  const t = new Float64Array(n);
  examples.forEach((example, i) => {
    let dot = 0;
    for (let j = 0; j < f; j++) dot += q[j]! * example.u[j]!;
    t[i] = dot;
    for (let j = 0; j < f; j++) v[i * f + j] = (example.u[j]! - mean[j]! * dot) / scale[j]!;
  });

  const w = new Float64Array(k * f);
  const b = new Float64Array(k);
  const adam = { mw: new Float64Array(k * f), vw: new Float64Array(k * f), mb: new Float64Array(k), vb: new Float64Array(k) };
  const gradW = new Float64Array(k * f);
  const gradB = new Float64Array(k);
  const a = new Float64Array(k);
  const z = new Float64Array(k);
  const gradA = new Float64Array(k);
  // Mini-batches: the cost of a fit is steps × batch, whatever the number of examples (full-batch steps over
  // 1,000 examples took seconds). Batches walk seeded shuffles of the examples, so a fit is reproducible.
  const batch = Math.min(n, options.batchSize);
  const order = Array.from({ length: n }, (_, i) => i);
  const random = seededRng(options.seed);
  let cursor = n;
  for (let step = 1; step <= options.steps; step++) {
    gradW.fill(0);
    gradB.fill(0);
    for (let item = 0; item < batch; item++) {
      if (cursor === n) {
        shuffle(order, random);
        cursor = 0;
      }
      const i = order[cursor++]!;
      const row = i * f;
      for (let c = 0; c < k; c++) {
        let s = b[c]! * t[i]!;
        const wr = c * f;
        for (let j = 0; j < f; j++) s += w[wr + j]! * v[row + j]!;
        a[c] = s;
      }
      logitGradient(geometry, examples[i]!, a, z, gradA);
      for (let c = 0; c < k; c++) {
        const g = gradA[c]! / batch;
        gradB[c]! += g * t[i]!;
        const wr = c * f;
        for (let j = 0; j < f; j++) gradW[wr + j]! += g * v[row + j]!;
      }
    }
    for (let j = 0; j < k * f; j++) gradW[j]! += options.l2 * w[j]!;
    adamStep(w, gradW, adam.mw, adam.vw, step, options.learningRate);
    adamStep(b, gradB, adam.mb, adam.vb, step, options.learningRate);
  }

  // A = W·diag(1/σ) + (b − W·(μ/σ)) qᵀ
  const realised = new Float32Array(k * f);
  for (let c = 0; c < k; c++) {
    let shift = b[c]!;
    for (let j = 0; j < f; j++) shift -= (w[c * f + j]! * mean[j]!) / scale[j]!;
    for (let j = 0; j < f; j++) realised[c * f + j] = w[c * f + j]! / scale[j]! + shift * q[j]!;
  }
  return { a: realised, labels: k, inputs: f };
}

/** a = A·u for one example. */
export function probeOutput(probe: Probe, u: Float32Array, out: Float64Array): void {
  for (let c = 0; c < probe.labels; c++) {
    let s = 0;
    const row = c * probe.inputs;
    for (let j = 0; j < probe.inputs; j++) s += probe.a[row + j]! * u[j]!;
    out[c] = s;
  }
}

function standardisation(examples: readonly ProbeExample[], f: number): { mean: Float64Array; scale: Float64Array; q: Float64Array } {
  const n = examples.length;
  const mean = new Float64Array(f);
  for (const example of examples) for (let j = 0; j < f; j++) mean[j]! += example.u[j]! / n;
  const variance = new Float64Array(f);
  for (const example of examples) for (let j = 0; j < f; j++) variance[j]! += (example.u[j]! - mean[j]!) ** 2 / n;
  let spread = 0;
  for (let j = 0; j < f; j++) spread += variance[j]! / f;
  // A unit that never varies must not be blown up by 1/σ: its scale is floored at a small share of the typical.
  const floor = Math.sqrt(spread) * 1e-2 + 1e-12;
  const scale = variance.map((x) => Math.max(Math.sqrt(x), floor));
  let norm = 0;
  for (let j = 0; j < f; j++) norm += mean[j]! * mean[j]!;
  const q = mean.map((x) => (norm > 0 ? x / norm : 0));
  return { mean, scale, q };
}

/**
 * Softmax cross-entropy of z(a) against the example's label, and its gradient with respect to a, written to
 * `gradA`: dL/da = g/R − (Σ g_k z_k)(p + Q a)/(n_embd R²), g = softmax(z) − onehot.
 */
function logitGradient(geometry: LabelGeometry, example: ProbeExample, a: Float64Array, z: Float64Array, gradA: Float64Array): void {
  const k = geometry.labels;
  const rms = labelLogits(geometry, example.geometry, a, z);
  let max = -Infinity;
  for (let c = 0; c < k; c++) max = Math.max(max, z[c]!);
  let total = 0;
  for (let c = 0; c < k; c++) total += Math.exp(z[c]! - max);
  let gz = 0;
  const g = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    g[c] = Math.exp(z[c]! - max) / total - (c === example.label ? 1 : 0);
    gz += g[c]! * z[c]!;
  }
  const factor = gz / (geometry.embeddingLength * rms * rms);
  for (let c = 0; c < k; c++) {
    let qa = 0;
    for (let d = 0; d < k; d++) qa += geometry.q[c * k + d]! * a[d]!;
    gradA[c] = g[c]! / rms - factor * (example.geometry.p[c]! + qa);
  }
}

function adamStep(params: Float64Array, grad: Float64Array, m: Float64Array, v: Float64Array, step: number, rate: number): void {
  const beta1 = 0.9;
  const beta2 = 0.999;
  const correction1 = 1 - beta1 ** step;
  const correction2 = 1 - beta2 ** step;
  for (let j = 0; j < params.length; j++) {
    m[j] = beta1 * m[j]! + (1 - beta1) * grad[j]!;
    v[j] = beta2 * v[j]! + (1 - beta2) * grad[j]! * grad[j]!;
    params[j]! -= (rate * (m[j]! / correction1)) / (Math.sqrt(v[j]! / correction2) + 1e-8);
  }
}

function shuffle(order: number[], random: Rng): void {
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
}
