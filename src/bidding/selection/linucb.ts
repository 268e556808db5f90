import { z } from "zod";
import type { Bid } from "../bids.js";
import { FEATURE_DIM, type LearnerInput } from "../features.js";
import { learnedSelection, type Estimate, type Selection, type SelectionContext, type SelectionPolicy } from "./interface.js";

/**
 * The first learning selection engine, kept as a selectable policy and as the replay bench's baseline: a disjoint
 * LinUCB contextual bandit (Li et al., 2010) over the request's shape only (the structural vector; it cannot read
 * content, whose 2^18 sparse dimensions a d×d matrix per model cannot hold — see ./logistic.ts). Each model keeps a ridge
 * regression of reward on the task's feature vector; a bid's confidence is the regression's prediction and its
 * optimistic bound adds alpha standard errors. The choice maximises the criteria's utility computed on the
 * optimistic bound, so a model is tried where it might be the best and not yet shown otherwise.
 *
 * Why LinUCB rather than Thompson sampling over the same linear model:
 * - the 50 µs budget for bidding and choosing among 10 models: LinUCB needs one d×d matrix-vector product per
 *   model (d = 17), while Thompson sampling would draw from a d-dimensional Gaussian per model and decision,
 *   which needs a Cholesky factor per model (kept up to date on every update) and d normal draws;
 * - a decision is a deterministic function of the state, so a decision record can explain it exactly ("its bound
 *   was 0.93 against 0.88") and replays and tests need no random source;
 * - the mean it exposes is exactly what a bid reports as confidence, and the bound is what minConfidence is held
 *   against.
 * Its weakness, a stationary model, is acceptable here: models are pinned by digest, so a model's quality changes
 * only when the manifest does, and an operator resets the learner then.
 *
 * Rewards are learned as deviations from a shared prior mean μ: the mean reward of everything this policy has
 * learned (starting from `prior`), so a model nothing is known about — or a context a model was never tried in —
 * is expected to do as well as the models do on average, with the widest bound. With a fixed prior of 0.5 instead,
 * the replay bench showed a model that failed its one early try at a kind of task predicted far below its real
 * success there, and never tried again. μ moves with every update, so each model keeps A⁻¹Σrx and A⁻¹Σx apart and
 * predicts μ + (A⁻¹Σrx − μA⁻¹Σx)·x. Updates use the Sherman–Morrison identity (O(d²)); every 1024 updates the
 * inverse is recomputed from the accumulated matrix to shed rounding drift.
 */

export interface LinUcbOptions {
  /**
   * Width of the optimistic bound in standard errors, times √ln(e + n) for n outcomes learned so far: the bound of
   * a model left untried widens slowly, so one unlucky early failure cannot keep it out for good (with a constant
   * width, the replay bench showed exactly that). Default 0.25.
   */
  alpha?: number;
  /** Ridge prior λ: how many observations the prior mean weighs per feature direction. Default 3. */
  ridge?: number;
  /** Reward predicted before anything was learned; it then becomes the mean learned reward. Default 0.5. */
  prior?: number;
}

const D = FEATURE_DIM;
const REFRESH_EVERY = 1024;

interface Arm {
  a: Float64Array;
  ainv: Float64Array;
  /** Σ reward·x */
  rx: Float64Array;
  /** Σ x */
  sx: Float64Array;
  /** A⁻¹ rx and A⁻¹ sx. */
  thetaR: Float64Array;
  thetaS: Float64Array;
  n: number;
  sinceRefresh: number;
}

const StateSchema = z.object({
  format: z.literal("linucb/2"),
  dim: z.number(),
  ridge: z.number(),
  prior: z.number(),
  rewardSum: z.number(),
  rewardCount: z.number().nonnegative(),
  arms: z.record(z.string(), z.object({
    a: z.array(z.number()).length(D * D),
    rx: z.array(z.number()).length(D),
    sx: z.array(z.number()).length(D),
    n: z.number().int().nonnegative(),
  })),
});
export type LinUcbState = z.infer<typeof StateSchema>;

export class LinUcbPolicy implements SelectionPolicy {
  readonly name = "linucb";
  /** A ridge regression of a 0/1 reward, not a probability: a quality target would not mean what it says. */
  readonly predictsProbabilities = false;
  readonly alpha: number;
  readonly ridge: number;
  readonly prior: number;
  private arms = new Map<string, Arm>();
  private rewardSum = 0;
  private rewardCount = 0;
  private isFrozen = false;
  private readonly v = new Float64Array(D);

  constructor(options: LinUcbOptions = {}) {
    // Chosen by mean cumulative regret in `npm run bench:routing` on seeds 101–108 (α 0.15–1.5, λ 1–6), which are
    // not the seeds it reports; regret rose on both sides of these values.
    this.alpha = options.alpha ?? 0.25;
    this.ridge = options.ridge ?? 3;
    this.prior = options.prior ?? 0.5;
  }

  get frozen(): boolean {
    return this.isFrozen;
  }

  /** The shared prior mean: `prior` counted as one observation, then the mean of all rewards learned. */
  get priorMean(): number {
    return (this.prior + this.rewardSum) / (1 + this.rewardCount);
  }

  estimate(modelId: string, input: LearnerInput, out: Estimate): void {
    const x = input.vector;
    const arm = this.arms.get(modelId);
    const mu = this.priorMean;
    let mean = mu;
    let variance = 0;
    if (arm === undefined) {
      for (let i = 0; i < D; i++) variance += x[i]! * x[i]!;
      variance /= this.ridge;
      out.observations = 0;
    } else {
      const { ainv, thetaR, thetaS } = arm;
      for (let i = 0; i < D; i++) {
        const xi = x[i]!;
        if (xi === 0) continue;
        let row = 0;
        const offset = i * D;
        for (let j = 0; j < D; j++) row += ainv[offset + j]! * x[j]!;
        variance += xi * row;
        mean += (thetaR[i]! - mu * thetaS[i]!) * xi;
      }
      out.observations = arm.n;
    }
    const upper = mean + this.alpha * Math.sqrt((variance > 0 ? variance : 0) * Math.log(Math.E + this.rewardCount));
    out.mean = clamp01(mean);
    out.upper = clamp01(upper);
    // Optimism is LinUCB's exploration: it explores by choosing on its upper bound.
    out.sample = out.upper;
  }

  choose(bids: readonly Bid[], context: SelectionContext): Selection {
    return learnedSelection(bids, context);
  }

  update(modelId: string, input: LearnerInput, reward: number): void {
    if (this.isFrozen) return;
    const x = input.vector;
    checkDimension(x);
    const arm = this.arm(modelId);
    const { a, ainv, rx, sx } = arm;
    const v = this.v;
    // v = A⁻¹x; A⁻¹ ← A⁻¹ − v vᵀ / (1 + xᵀv) (A⁻¹ is symmetric, so xᵀA⁻¹ = vᵀ).
    let xv = 0;
    for (let i = 0; i < D; i++) {
      let row = 0;
      for (let j = 0; j < D; j++) row += ainv[i * D + j]! * x[j]!;
      v[i] = row;
      xv += x[i]! * row;
    }
    const scale = 1 / (1 + xv);
    for (let i = 0; i < D; i++) {
      const xi = x[i]!;
      const vi = v[i]! * scale;
      for (let j = 0; j < D; j++) {
        ainv[i * D + j]! -= vi * v[j]!;
        a[i * D + j]! += xi * x[j]!;
      }
      rx[i]! += reward * xi;
      sx[i]! += xi;
    }
    arm.n += 1;
    this.rewardSum += reward;
    this.rewardCount += 1;
    if (++arm.sinceRefresh >= REFRESH_EVERY) refreshInverse(arm);
    solveTheta(arm);
  }

  revise(modelId: string, input: LearnerInput, previous: number, reward: number): void {
    if (this.isFrozen) return;
    const x = input.vector;
    checkDimension(x);
    const arm = this.arms.get(modelId);
    if (arm === undefined) return;
    // Ridge regression with one label replaced: A and Σx are unchanged, Σrx moves by the difference.
    const delta = reward - previous;
    for (let i = 0; i < D; i++) arm.rx[i]! += delta * x[i]!;
    this.rewardSum += delta;
    solveTheta(arm);
  }

  freeze(): void {
    this.isFrozen = true;
  }

  unfreeze(): void {
    this.isFrozen = false;
  }

  reset(): void {
    this.arms.clear();
    this.rewardSum = 0;
    this.rewardCount = 0;
  }

  /** Observations per model, for operators. */
  observations(): Record<string, number> {
    return Object.fromEntries([...this.arms].map(([id, arm]) => [id, arm.n]));
  }

  exportState(): LinUcbState {
    const arms: LinUcbState["arms"] = {};
    for (const [id, arm] of this.arms) arms[id] = { a: [...arm.a], rx: [...arm.rx], sx: [...arm.sx], n: arm.n };
    return { format: "linucb/2", dim: D, ridge: this.ridge, prior: this.prior, rewardSum: this.rewardSum, rewardCount: this.rewardCount, arms };
  }

  importState(state: unknown): boolean {
    const parsed = StateSchema.safeParse(state);
    // State learned under another feature layout or ridge would be misread, not merely stale.
    if (!parsed.success || parsed.data.dim !== D || parsed.data.ridge !== this.ridge) return false;
    const arms = new Map<string, Arm>();
    for (const [id, saved] of Object.entries(parsed.data.arms)) {
      const arm: Arm = {
        a: Float64Array.from(saved.a),
        ainv: new Float64Array(D * D),
        rx: Float64Array.from(saved.rx),
        sx: Float64Array.from(saved.sx),
        thetaR: new Float64Array(D),
        thetaS: new Float64Array(D),
        n: saved.n,
        sinceRefresh: 0,
      };
      if (!refreshInverse(arm)) return false;
      solveTheta(arm);
      arms.set(id, arm);
    }
    this.arms = arms;
    this.rewardSum = parsed.data.rewardSum;
    this.rewardCount = parsed.data.rewardCount;
    return true;
  }

  private arm(modelId: string): Arm {
    let arm = this.arms.get(modelId);
    if (arm === undefined) {
      arm = {
        a: new Float64Array(D * D), ainv: new Float64Array(D * D), rx: new Float64Array(D), sx: new Float64Array(D),
        thetaR: new Float64Array(D), thetaS: new Float64Array(D), n: 0, sinceRefresh: 0,
      };
      for (let i = 0; i < D; i++) {
        arm.a[i * D + i] = this.ridge;
        arm.ainv[i * D + i] = 1 / this.ridge;
      }
      this.arms.set(modelId, arm);
    }
    return arm;
  }
}

function solveTheta(arm: Arm): void {
  const { ainv, rx, sx, thetaR, thetaS } = arm;
  for (let i = 0; i < D; i++) {
    let r = 0;
    let s = 0;
    for (let j = 0; j < D; j++) {
      r += ainv[i * D + j]! * rx[j]!;
      s += ainv[i * D + j]! * sx[j]!;
    }
    thetaR[i] = r;
    thetaS[i] = s;
  }
}

/** A⁻¹ from A by Cholesky (A = λI + Σxxᵀ is symmetric positive definite); false if A is not. */
function refreshInverse(arm: Arm): boolean {
  const { a, ainv } = arm;
  const l = new Float64Array(D * D);
  for (let i = 0; i < D; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a[i * D + j]!;
      for (let k = 0; k < j; k++) sum -= l[i * D + k]! * l[j * D + k]!;
      if (i === j) {
        if (!(sum > 0)) return false;
        l[i * D + i] = Math.sqrt(sum);
      } else {
        l[i * D + j] = sum / l[j * D + j]!;
      }
    }
  }
  // Solve L Lᵀ X = I column by column.
  const column = new Float64Array(D);
  for (let c = 0; c < D; c++) {
    for (let i = 0; i < D; i++) {
      let sum = i === c ? 1 : 0;
      for (let k = 0; k < i; k++) sum -= l[i * D + k]! * column[k]!;
      column[i] = sum / l[i * D + i]!;
    }
    for (let i = D - 1; i >= 0; i--) {
      let sum = column[i]!;
      for (let k = i + 1; k < D; k++) sum -= l[k * D + i]! * column[k]!;
      column[i] = sum / l[i * D + i]!;
    }
    for (let i = 0; i < D; i++) ainv[i * D + c] = column[i]!;
  }
  arm.sinceRefresh = 0;
  return true;
}

function checkDimension(x: Float64Array): void {
  if (x.length !== D) throw new RangeError(`feature vector has ${x.length} values, the learner expects ${D}`);
}

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}
