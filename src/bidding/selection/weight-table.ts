/** Prior precisions of a block: its intercept's (input index 0), and every other weight's. */
export interface Prior {
  bias: number;
  other: number;
}

/**
 * The logistic learner's posterior means and precisions, for every block (the shared part and each model) over the
 * whole input space, feature-major: for input index i, block b's mean is at 2(i·stride + b) and its precision right
 * after it.
 *
 * Why feature-major: bidding reads a request's features once per candidate, at indices spread over the whole space.
 * With one array per model (2 MB each at 2^18 indices), every candidate's read of a feature was a cache miss of its
 * own — 10 candidates × ~300 features of a 2 KB prompt, the bulk of the auction's time. Side by side, the first
 * candidate's read brings the line holding the other models' pairs for the same feature, so a request costs about
 * one or two misses per feature whatever the number of candidates.
 *
 * Adding a block copies the table into one wider by a pair per index (about 25 ms at 2^18 indices and ten blocks
 * on a 2-vCPU machine); it happens once per model the learner meets, on the learning path, never while bidding.
 */
export class WeightTable {
  readonly dimension: number;
  /** Blocks per input index. */
  stride = 0;
  weights = new Float32Array(0);

  constructor(dimension: number) {
    this.dimension = dimension;
  }

  /** A new block at its prior (mean 0, precision from `prior`); returns its slot. */
  addBlock(prior: Prior): number {
    const previous = this.weights;
    const before = 2 * this.stride;
    const after = before + 2;
    const weights = new Float32Array(this.dimension * after);
    for (let i = 0; i < this.dimension; i++) {
      const from = i * before;
      const to = i * after;
      for (let k = 0; k < before; k++) weights[to + k] = previous[from + k]!;
      weights[to + before + 1] = i === 0 ? prior.bias : prior.other;
    }
    this.weights = weights;
    return this.stride++;
  }

  /** Where block `slot`'s mean for input index `index` is; its precision follows. */
  at(index: number, slot: number): number {
    return 2 * (index * this.stride + slot);
  }
}
