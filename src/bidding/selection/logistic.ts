import { z } from "zod";
import type { Bid } from "../bids.js";
import { FEATURE_DIM, type LearnerInput } from "../features.js";
import type { Rng } from "../../util/rng.js";
import { learnedSelection, type Estimate, type Selection, type SelectionContext, type SelectionPolicy } from "./interface.js";
import { WeightTable, type Prior } from "./weight-table.js";

/**
 * The learning selection engine: per model, a Bayesian logistic regression of success on the request's features
 * (its shape and its content), learned online, with Thompson sampling for exploration — Chapelle & Li, "An
 * empirical evaluation of Thompson sampling" (2011), their algorithm 3: a diagonal Gaussian posterior over the
 * weights, updated per outcome by the Laplace approximation.
 *
 * Why this and not LinUCB: content features live in a sparse space of 2^18 dimensions, where LinUCB's d×d matrix
 * is out of the question; a diagonal posterior costs two numbers per touched feature. Its prediction σ(w·x) is a
 * success probability and can be calibrated (LinUCB's ridge regression of a 0/1 reward is not a probability), so
 * a quality target means what it says. And posterior sampling keeps trying a model exactly as long as its posterior
 * leaves room for it to be the right choice: exploration shrinks with evidence instead of with a tuned α, and it
 * cannot lock in — the replay bench showed LinUCB's optimism, tuned on synthetic tables, stop learning after 10 %
 * of a real stream.
 *
 * Thompson sampling costs no more than a point estimate here: w ~ N(m, diag(1/q)) makes w·x ~ N(m·x, Σ x²/q) for
 * the request at hand, so one normal draw for the shared part and one per model sample exactly what the choice needs.
 *
 * Hierarchical: every model's logit is a shared part (how hard this request is, learned from every model's
 * outcomes) plus its own part (how this model differs), each with its own diagonal posterior. A model seldom tried
 * still inherits what every outcome taught about the request, and a new model starts as the average model — not
 * at a fixed 0.5, which the replay bench showed sinks a model after one unlucky try.
 *
 * One update, for an outcome y ∈ [0, 1] (graded feedback is a soft label) on input x with current means m and
 * precisions q (both parts concatenated): the mode of the new posterior lies along x/q, so it is a 1-D problem —
 * Newton on z = w·x for z + v(σ(z) − y) = m·x with v = Σ x²/q — then m ← m − (σ(z) − y) x/q and
 * q ← q + σ(z)(1 − σ(z)) x². O(non-zero features).
 */

export interface LogisticOptions {
  /** Length of the content block (the content featurizer's dimension); the structural block comes first. */
  contentDimension: number;
  /** Seeded source for posterior draws: replays and tests are deterministic. */
  rng: Rng;
  /** Prior precision of each model's own weights: how far a model may differ from the shared part. Default 10. */
  modelPrecision?: number;
  /**
   * Prior precision of each model's own intercept: how far a model's overall level may differ from the shared one.
   * Default 3, looser than a word's 10: models differ more in level than in how a word moves them. Replaying the
   * real family's eval table, the intercept's prior at 10 kept the random-weight model (right on 0 % of items)
   * predicted at 30–45 % and chosen on a third of the hard kinds; at 3 quality rose from 83 % to 86 % of
   * always-Gemma. On the generated two-model tables it changed nothing beyond the spread over shuffles.
   */
  modelBiasPrecision?: number;
  /** Prior precision of the shared weights; 0 turns the shared part off. Default 3. */
  sharedPrecision?: number;
  /** Scale of the posterior's standard deviation when sampling (1: exact Thompson sampling). Default 1. */
  explorationScale?: number;
}

/**
 * One posterior block over the whole input space (the shared part, or one model's own), allocated on first update:
 * its slot in the learner's weight table (weight-table.ts), and the outcomes it has learned.
 */
interface Block {
  slot: number;
  n: number;
}

/** The structural vector's first entry is the intercept (always 1; features.ts). */
const BIAS = 0;
const PROBIT = Math.PI / 8;

const PackedBlock = z.object({ n: z.number().int().nonnegative(), indices: z.string(), means: z.string(), precisions: z.string() });
const StateSchema = z.object({
  format: z.literal("logistic-ts/1"),
  dimension: z.number().int().positive(),
  modelPrecision: z.number().nonnegative(),
  /** Absent in state saved before the intercept had a prior of its own (then it was modelPrecision). */
  modelBiasPrecision: z.number().positive().optional(),
  sharedPrecision: z.number().nonnegative(),
  shared: PackedBlock.nullable(),
  models: z.record(z.string(), PackedBlock),
});
export type LogisticState = z.infer<typeof StateSchema>;

export class LogisticThompsonPolicy implements SelectionPolicy {
  readonly name = "logistic-ts";
  readonly predictsProbabilities = true;
  readonly dimension: number;
  readonly modelPrecision: number;
  readonly sharedPrecision: number;
  readonly modelBiasPrecision: number;
  private readonly modelPrior: Prior;
  private readonly sharedPrior: Prior;
  readonly explorationScale: number;
  private readonly rng: Rng;
  private table: WeightTable;
  private models = new Map<string, Block>();
  private shared: Block | null = null;
  private isFrozen = false;
  /** The shared part's m·x and Σx²/q for the last input seen: every bid of one request reuses them. */
  private cachedInput: LearnerInput | null = null;
  private cachedShared = { mu: 0, variance: 0, draw: 0 };
  private readonly own = { mu: 0, variance: 0 };
  private spareNormal: number | null = null;

  constructor(options: LogisticOptions) {
    this.dimension = FEATURE_DIM + options.contentDimension;
    this.rng = options.rng;
    // Chosen on the replay bench's tuning seed (101) among 0.03–30: weaker priors overfit the n-grams (predicted
    // and true quality gaps correlated 0.2–0.3 at 0.1), stronger ones underfit (0.5 at 30); 10 and 3 gave 0.6.
    this.modelPrecision = options.modelPrecision ?? 10;
    this.sharedPrecision = options.sharedPrecision ?? 3;
    this.modelBiasPrecision = options.modelBiasPrecision ?? 3;
    this.modelPrior = { bias: this.modelBiasPrecision, other: this.modelPrecision };
    this.sharedPrior = { bias: this.sharedPrecision, other: this.sharedPrecision };
    this.explorationScale = options.explorationScale ?? 1;
    if (!(this.modelPrecision > 0)) throw new RangeError("modelPrecision must be positive");
    this.table = new WeightTable(this.dimension);
  }

  get frozen(): boolean {
    return this.isFrozen;
  }

  estimate(modelId: string, x: LearnerInput, out: Estimate): void {
    let mu = 0;
    let variance = 0;
    let sharedDraw = 0;
    if (this.sharedPrecision > 0) {
      if (this.cachedInput !== x) {
        this.cachedInput = x;
        this.cachedShared.mu = 0;
        this.cachedShared.variance = 0;
        this.accumulate(this.shared, this.sharedPrior, x, this.cachedShared);
        this.cachedShared.draw = Math.sqrt(this.cachedShared.variance) * this.normal();
      }
      mu = this.cachedShared.mu;
      variance = this.cachedShared.variance;
      sharedDraw = this.cachedShared.draw;
    }
    const block = this.models.get(modelId);
    const own = this.own;
    own.mu = 0;
    own.variance = 0;
    this.accumulate(block ?? null, this.modelPrior, x, own);
    mu += own.mu;
    variance += own.variance;
    // The predictive probability integrates the posterior (probit approximation), so it is calibrated where
    // the posterior is wide: an untried model predicts near its prior, not at the extremes of its point estimate.
    out.mean = sigmoid(mu / Math.sqrt(1 + PROBIT * variance));
    out.upper = sigmoid(mu + 2 * Math.sqrt(variance));
    // One posterior draw per request for the shared weights, which every model's logit contains, and one per model
    // for its own: drawn apart for each model, the shared part's uncertainty (how hard is this request?) would
    // pass for a difference between the models and keep a model that always fails in play.
    out.sample = sigmoid(mu + this.explorationScale * (sharedDraw + Math.sqrt(own.variance) * this.normal()));
    out.observations = block?.n ?? 0;
  }

  choose(bids: readonly Bid[], context: SelectionContext): Selection {
    return learnedSelection(bids, context);
  }

  update(modelId: string, x: LearnerInput, reward: number): void {
    if (this.isFrozen) return;
    this.checkInput(x);
    const own = this.block(modelId);
    const shared = this.sharedPrecision > 0 ? (this.shared ??= this.newBlock(this.table, this.sharedPrior)) : null;
    this.learn(own, shared, x, reward);
    own.n += 1;
    if (shared !== null) shared.n += 1;
  }

  revise(modelId: string, x: LearnerInput, previous: number, reward: number): void {
    if (this.isFrozen) return;
    this.checkInput(x);
    const own = this.models.get(modelId);
    if (own === undefined) return;
    // The outcome is taken out and learned again with its new label, as expectation propagation replaces a site.
    // Its update left the mode along x at z = m·x and added σ(z)(1 − σ(z))·x² to the precisions it touched, so both
    // are recoverable from the current state (exactly while no later outcome touched the same features). So an
    // outcome learned as valid and judged later leaves the learner where learning the judgement once would have:
    // what the replay bench measures is what the gateway learns. (A correction laid on top, as before, kept the
    // first label's curvature; over 40 orders of the real family's table the two scored the same, 63.3 %.)
    const shared = this.sharedPrecision > 0 ? this.shared : null;
    const sums = { mu: 0, variance: 0 };
    this.accumulate(own, this.modelPrior, x, sums);
    if (shared !== null) this.accumulate(shared, this.sharedPrior, x, sums);
    const p = sigmoid(sums.mu);
    unstep(this.table, own, this.modelPrior, x, p - previous, p * (1 - p));
    if (shared !== null) unstep(this.table, shared, this.sharedPrior, x, p - previous, p * (1 - p));
    this.cachedInput = null;
    this.learn(own, shared, x, reward);
  }

  freeze(): void {
    this.isFrozen = true;
  }

  unfreeze(): void {
    this.isFrozen = false;
  }

  reset(): void {
    this.table = new WeightTable(this.dimension);
    this.models.clear();
    this.shared = null;
    this.cachedInput = null;
  }

  observations(): Record<string, number> {
    return Object.fromEntries([...this.models].map(([id, block]) => [id, block.n]));
  }

  /** Each content feature's share of the model's log-odds: (shared + own mean weight) × value. */
  contributions(modelId: string, x: LearnerInput): Float64Array {
    const { indices, values } = x.content;
    const out = new Float64Array(indices.length);
    const own = this.models.get(modelId);
    const shared = this.sharedPrecision > 0 ? this.shared : null;
    const { table } = this;
    for (let k = 0; k < indices.length; k++) {
      const i = FEATURE_DIM + indices[k]!;
      const ownMean = own === undefined ? 0 : table.weights[table.at(i, own.slot)]!;
      const sharedMean = shared === null ? 0 : table.weights[table.at(i, shared.slot)]!;
      out[k] = (ownMean + sharedMean) * values[k]!;
    }
    return out;
  }

  /** Only touched features are kept: indices, means and precisions as base64 of their typed arrays. */
  exportState(): LogisticState {
    const models: LogisticState["models"] = {};
    for (const [id, block] of this.models) models[id] = pack(this.table, block, this.modelPrior);
    return {
      format: "logistic-ts/1",
      dimension: this.dimension,
      modelPrecision: this.modelPrecision,
      modelBiasPrecision: this.modelBiasPrecision,
      sharedPrecision: this.sharedPrecision,
      shared: this.shared === null ? null : pack(this.table, this.shared, this.sharedPrior),
      models,
    };
  }

  importState(state: unknown): boolean {
    const parsed = StateSchema.safeParse(state);
    // Weights learned in another index space or under another prior would be misread, not merely stale.
    if (!parsed.success) return false;
    const saved = parsed.data;
    if (saved.dimension !== this.dimension || saved.modelPrecision !== this.modelPrecision || saved.sharedPrecision !== this.sharedPrecision) return false;
    if ((saved.modelBiasPrecision ?? saved.modelPrecision) !== this.modelBiasPrecision) return false;
    const table = new WeightTable(this.dimension);
    const models = new Map<string, Block>();
    for (const [id, packed] of Object.entries(saved.models)) {
      const block = this.unpack(table, packed, this.modelPrior);
      if (block === null) return false;
      models.set(id, block);
    }
    const shared = saved.shared === null ? null : this.unpack(table, saved.shared, this.sharedPrior);
    if (saved.shared !== null && shared === null) return false;
    this.table = table;
    this.models = models;
    this.shared = shared;
    this.cachedInput = null;
    return true;
  }

  /** One Laplace update of both parts on label y (the header's derivation). */
  private learn(own: Block, shared: Block | null, x: LearnerInput, y: number): void {
    const sums = { mu: 0, variance: 0 };
    this.accumulate(own, this.modelPrior, x, sums);
    if (shared !== null) this.accumulate(shared, this.sharedPrior, x, sums);
    const p = sigmoid(solveMode(sums.mu, sums.variance, y));
    step(this.table, own, x, p - y, p * (1 - p));
    if (shared !== null) step(this.table, shared, x, p - y, p * (1 - p));
    this.cachedInput = null;
  }

  /** Adds a block's m·x and Σ x²/q to `sums`; a block never allocated is its prior (m = 0, q = prior). */
  private accumulate(block: Block | null, prior: Prior, x: LearnerInput, sums: { mu: number; variance: number }): void {
    const { vector, content } = x;
    const { indices, values } = content;
    if (block === null) {
      let squares = 0;
      for (let i = 1; i < vector.length; i++) squares += vector[i]! * vector[i]!;
      for (let i = 0; i < values.length; i++) squares += values[i]! * values[i]!;
      sums.variance += (vector[0]! * vector[0]!) / prior.bias + squares / prior.other;
      return;
    }
    const { weights, stride } = this.table;
    const slot = 2 * block.slot;
    const pair = 2 * stride;
    let mu = 0;
    let variance = 0;
    for (let i = 0; i < vector.length; i++) {
      const xi = vector[i]!;
      if (xi === 0) continue;
      const at = i * pair + slot;
      mu += weights[at]! * xi;
      variance += (xi * xi) / weights[at + 1]!;
    }
    for (let k = 0; k < indices.length; k++) {
      const at = (FEATURE_DIM + indices[k]!) * pair + slot;
      const xi = values[k]!;
      mu += weights[at]! * xi;
      variance += (xi * xi) / weights[at + 1]!;
    }
    sums.mu += mu;
    sums.variance += variance;
  }

  private block(modelId: string): Block {
    let block = this.models.get(modelId);
    if (block === undefined) {
      block = this.newBlock(this.table, this.modelPrior);
      this.models.set(modelId, block);
    }
    return block;
  }

  private newBlock(table: WeightTable, prior: Prior): Block {
    return { slot: table.addBlock(prior), n: 0 };
  }

  private unpack(table: WeightTable, packed: z.infer<typeof PackedBlock>, prior: Prior): Block | null {
    const indices = fromBase64(packed.indices, Int32Array);
    const means = fromBase64(packed.means, Float32Array);
    const precisions = fromBase64(packed.precisions, Float32Array);
    if (indices === null || means === null || precisions === null) return null;
    if (means.length !== indices.length || precisions.length !== indices.length) return null;
    for (let k = 0; k < indices.length; k++) {
      const i = indices[k]!;
      if (!(i >= 0 && i < this.dimension) || !(precisions[k]! > 0) || !Number.isFinite(means[k]!)) return null;
    }
    const block = this.newBlock(table, prior);
    for (let k = 0; k < indices.length; k++) {
      const at = table.at(indices[k]!, block.slot);
      table.weights[at] = means[k]!;
      table.weights[at + 1] = precisions[k]!;
    }
    block.n = packed.n;
    return block;
  }

  private checkInput(x: LearnerInput): void {
    if (x.vector.length !== FEATURE_DIM) throw new RangeError(`feature vector has ${x.vector.length} values, the learner expects ${FEATURE_DIM}`);
    const limit = this.dimension - FEATURE_DIM;
    for (let k = 0; k < x.content.indices.length; k++) {
      const index = x.content.indices[k]!;
      if (index < 0 || index >= limit) throw new RangeError(`content feature ${index} is outside the learner's ${limit} content dimensions`);
    }
  }

  /** A standard normal draw (Box–Muller, both values used). */
  private normal(): number {
    if (this.spareNormal !== null) {
      const spare = this.spareNormal;
      this.spareNormal = null;
      return spare;
    }
    const radius = Math.sqrt(-2 * Math.log(1 - this.rng()));
    const angle = 2 * Math.PI * this.rng();
    this.spareNormal = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  }
}

/** The posterior mode along x: z + v(σ(z) − y) = μ, by Newton's method (f is increasing, so it converges). */
function solveMode(mu: number, variance: number, y: number): number {
  let z = mu;
  for (let iteration = 0; iteration < 20; iteration++) {
    const p = sigmoid(z);
    const f = z + variance * (p - y) - mu;
    const change = f / (1 + variance * p * (1 - p));
    z -= change;
    if (Math.abs(change) < 1e-9) break;
  }
  return z;
}

/** m ← m − gradient·x/q, then q ← q + curvature·x² (a curvature of 0 moves the mean only). */
function step(table: WeightTable, block: Block, x: LearnerInput, gradient: number, curvature: number): void {
  const { weights } = table;
  const { vector, content } = x;
  for (let i = 0; i < vector.length; i++) {
    const xi = vector[i]!;
    if (xi !== 0) stepWeight(weights, table.at(i, block.slot), xi, gradient, curvature);
  }
  const { indices, values } = content;
  for (let k = 0; k < indices.length; k++) stepWeight(weights, table.at(FEATURE_DIM + indices[k]!, block.slot), values[k]!, gradient, curvature);
}

function stepWeight(weights: Float32Array, at: number, xi: number, gradient: number, curvature: number): void {
  weights[at] = weights[at]! - (gradient * xi) / weights[at + 1]!;
  weights[at + 1] = weights[at + 1]! + curvature * xi * xi;
}

/**
 * Undoes step(gradient, curvature): q ← q − curvature·x², then m ← m + gradient·x/q. A precision never falls below
 * its prior: where later outcomes moved the mode, the recovered curvature is an estimate.
 */
function unstep(table: WeightTable, block: Block, prior: Prior, x: LearnerInput, gradient: number, curvature: number): void {
  const { weights } = table;
  const { vector, content } = x;
  for (let i = 0; i < vector.length; i++) {
    const xi = vector[i]!;
    if (xi !== 0) unstepWeight(weights, table.at(i, block.slot), i === BIAS ? prior.bias : prior.other, xi, gradient, curvature);
  }
  const { indices, values } = content;
  for (let k = 0; k < indices.length; k++) unstepWeight(weights, table.at(FEATURE_DIM + indices[k]!, block.slot), prior.other, values[k]!, gradient, curvature);
}

function unstepWeight(weights: Float32Array, at: number, floor: number, xi: number, gradient: number, curvature: number): void {
  weights[at + 1] = Math.max(floor, weights[at + 1]! - curvature * xi * xi);
  weights[at] = weights[at]! + (gradient * xi) / weights[at + 1]!;
}

function pack(table: WeightTable, block: Block, prior: Prior): z.infer<typeof PackedBlock> {
  const touched: number[] = [];
  const { weights } = table;
  for (let i = 0; i < table.dimension; i++) {
    const at = table.at(i, block.slot);
    if (weights[at] !== 0 || weights[at + 1] !== Math.fround(i === BIAS ? prior.bias : prior.other)) touched.push(i);
  }
  const indices = Int32Array.from(touched);
  const means = Float32Array.from(touched, (i) => weights[table.at(i, block.slot)]!);
  const precisions = Float32Array.from(touched, (i) => weights[table.at(i, block.slot) + 1]!);
  return { n: block.n, indices: toBase64(indices), means: toBase64(means), precisions: toBase64(precisions) };
}

function toBase64(array: Int32Array | Float32Array): string {
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength).toString("base64");
}

function fromBase64<T extends Int32Array | Float32Array>(text: string, Type: { new (buffer: ArrayBuffer): T }): T | null {
  const bytes = Buffer.from(text, "base64");
  if (bytes.length % 4 !== 0) return null;
  // Copied into a fresh, aligned buffer: a Buffer's own may be a slice of a shared pool at any offset.
  const copy = new ArrayBuffer(bytes.length);
  new Uint8Array(copy).set(bytes);
  return new Type(copy);
}

function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}
