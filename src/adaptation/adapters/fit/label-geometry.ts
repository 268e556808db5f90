/**
 * How a change of the final residual moves the label tokens' logits. Label k's logit is M_k · x / rms(x), where
 * M_k is its output row times output_norm's weights. An adapter adds d = V a to x, with V = Mᵀ(MMᵀ)⁻¹ — the
 * smallest change that moves M·x by exactly a — so that, before normalisation, label k's logit gains a_k and no
 * other label's changes. Everything the fit needs per example then fits in K numbers (K labels):
 *
 *   z_k(a) = (m_k + a_k) / sqrt((s + 2 p·a + aᵀQa) / n_embd + ε),   m = M x,  Q = (MMᵀ)⁻¹,  p = Q m,  s = |x|²
 */

export interface LabelGeometry {
  labels: number;
  embeddingLength: number;
  epsilon: number;
  /** K rows of n_embd. */
  m: Float64Array;
  /** n_embd rows of K: the adapter's B. */
  v: Float64Array;
  /** K × K. */
  q: Float64Array;
}

/** Per example, what z(a) needs. */
export interface ExampleGeometry {
  m: Float64Array;
  p: Float64Array;
  s: number;
}

export function labelGeometry(outputRows: Float32Array, outputNorm: Float32Array, labels: number, epsilon: number): LabelGeometry {
  const e = outputNorm.length;
  const m = new Float64Array(labels * e);
  for (let k = 0; k < labels; k++) for (let j = 0; j < e; j++) m[k * e + j] = outputRows[k * e + j]! * outputNorm[j]!;
  const gram = new Float64Array(labels * labels);
  for (let a = 0; a < labels; a++) {
    for (let b = 0; b < labels; b++) {
      let s = 0;
      for (let j = 0; j < e; j++) s += m[a * e + j]! * m[b * e + j]!;
      gram[a * labels + b] = s;
    }
  }
  const q = invert(gram, labels);
  const v = new Float64Array(e * labels);
  for (let j = 0; j < e; j++) {
    for (let k = 0; k < labels; k++) {
      let s = 0;
      for (let c = 0; c < labels; c++) s += m[c * e + j]! * q[c * labels + k]!;
      v[j * labels + k] = s;
    }
  }
  return { labels, embeddingLength: e, epsilon, m, v, q };
}

export function exampleGeometry(geometry: LabelGeometry, x: Float64Array): ExampleGeometry {
  const { labels: k, embeddingLength: e } = geometry;
  const m = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    let s = 0;
    for (let j = 0; j < e; j++) s += geometry.m[c * e + j]! * x[j]!;
    m[c] = s;
  }
  const p = new Float64Array(k);
  for (let a = 0; a < k; a++) {
    let s = 0;
    for (let b = 0; b < k; b++) s += geometry.q[a * k + b]! * m[b]!;
    p[a] = s;
  }
  let s = 0;
  for (let j = 0; j < e; j++) s += x[j]! * x[j]!;
  return { m, p, s };
}

/** The label logits after adding V·a to the final residual (a = 0: the base model's). */
export function labelLogits(geometry: LabelGeometry, example: ExampleGeometry, a: ArrayLike<number>, out: Float64Array): number {
  const k = geometry.labels;
  let squared = example.s;
  for (let c = 0; c < k; c++) {
    let qa = 0;
    for (let d = 0; d < k; d++) qa += geometry.q[c * k + d]! * a[d]!;
    squared += a[c]! * (2 * example.p[c]! + qa);
  }
  const rms = Math.sqrt(squared / geometry.embeddingLength + geometry.epsilon);
  for (let c = 0; c < k; c++) out[c] = (example.m[c]! + a[c]!) / rms;
  return rms;
}

/** The label logits for an arbitrary change `delta` of the final residual (another adapter's B·A·u). */
export function labelLogitsForDelta(geometry: LabelGeometry, x: Float64Array, delta: ArrayLike<number>, out: Float64Array): void {
  const { labels: k, embeddingLength: e } = geometry;
  let squared = 0;
  for (let j = 0; j < e; j++) squared += (x[j]! + delta[j]!) ** 2;
  const rms = Math.sqrt(squared / e + geometry.epsilon);
  for (let c = 0; c < k; c++) {
    let s = 0;
    for (let j = 0; j < e; j++) s += geometry.m[c * e + j]! * (x[j]! + delta[j]!);
    out[c] = s / rms;
  }
}

/** Gauss-Jordan inverse with partial pivoting of a small dense matrix; refuses a singular one. */
function invert(matrix: Float64Array, n: number): Float64Array {
  const a = Float64Array.from(matrix);
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(a[r * n + col]!) > Math.abs(a[pivot * n + col]!)) pivot = r;
    const value = a[pivot * n + col]!;
    if (Math.abs(value) < 1e-12 * Math.max(1, Math.abs(a[0]!))) throw new RangeError("the label tokens' output rows are linearly dependent");
    if (pivot !== col) {
      for (let c = 0; c < n; c++) {
        [a[col * n + c], a[pivot * n + c]] = [a[pivot * n + c]!, a[col * n + c]!];
        [inv[col * n + c], inv[pivot * n + c]] = [inv[pivot * n + c]!, inv[col * n + c]!];
      }
    }
    for (let c = 0; c < n; c++) {
      a[col * n + c]! /= value;
      inv[col * n + c]! /= value;
    }
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const factor = a[r * n + col]!;
      if (factor === 0) continue;
      for (let c = 0; c < n; c++) {
        a[r * n + c]! -= factor * a[col * n + c]!;
        inv[r * n + c]! -= factor * inv[col * n + c]!;
      }
    }
  }
  return inv;
}
