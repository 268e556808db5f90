import { z } from "zod";

/**
 * Turns a quality target into the slack a choice may take, and keeps the realised quality ratio on target.
 *
 * The rule (criteria.ts): the cheapest eligible model whose predicted quality is within `slack` of the best
 * prediction. The slack is absolute, the same for every request, rather than a share of each request's best
 * prediction: what a cheaper model gives up on a request is its quality gap, and sending the strong model where
 * that gap is largest is what gets the most quality per strong call (on the replay bench's two-model tables a
 * per-request ratio escalated hard requests where both models fail, and needed more strong calls for the same
 * quality).
 *
 *   slack = k × (1 − target) × Q̄,  Q̄ a running mean of the decisions' best predictions (so k = 1 gives up
 *   (1 − target) of the quality a perfect predictor expects), and after each learned outcome of a choice under a target
 *   k ← k − gain × (target × best prediction − observed quality) ÷ ((1 − target) × Q̄)
 * (Robbins–Monro with a constant gain: an exponentially weighted window of outcomes; the division makes each step
 * move the slack by gain × the error, whatever the target), bounded. At its fixed point the mean observed quality is
 * target × the mean best prediction: the realised ratio tracks the target. Predictions are least right where a
 * cheap model was chosen (it is chosen where it looks good, so its errors there lean optimistic): k corrects that
 * bias. One k for all targets: the bias is the predictions', not the target's.
 */
export interface CalibrationOptions {
  /** Step per outcome, in quality units of slack. Default 0.003. */
  gain?: number;
  /** Upper bound of k (its lower bound is 0: the best model only). Default 3. */
  max?: number;
}

const StateSchema = z.object({
  multiplier: z.number(),
  meanBest: z.number(),
  observed: z.number().int().nonnegative(),
  /** Decisions Q̄ has averaged; absent in state saved before it was kept (read as a full window). */
  noted: z.number().int().nonnegative().optional(),
});
export type CalibrationState = z.infer<typeof StateSchema>;

/** Q̄ moves by this share of each new best prediction, once it has averaged its first 1 ÷ MEAN_RATE. */
const MEAN_RATE = 0.01;
/** (1 − target) below this is read as this in the step, so a target near 1 does not make steps explode. */
const MIN_ROOM = 0.02;

export class QualityTargetCalibrator {
  private readonly gain: number;
  private readonly max: number;
  private k = 1;
  private meanBest = 0.5;
  private observed = 0;
  private noted = 0;

  constructor(options: CalibrationOptions = {}) {
    this.gain = options.gain ?? 0.003;
    this.max = options.max ?? 3;
  }

  get multiplier(): number {
    return this.k;
  }

  /** How far below the best prediction a cheaper model's may be, under `target`. */
  slack(target: number): number {
    return this.k * (1 - target) * this.meanBest;
  }

  /** One learned outcome of a choice made under `target`. */
  observe(target: number, bestPredicted: number, observedQuality: number): void {
    this.step(target, observedQuality - target * bestPredicted);
    this.observed += 1;
  }

  /**
   * An observed quality replaced (explicit feedback revised the outcome's reward): the step observe took with
   * `previous` is moved to what `observed` would have given. Without it, where correctness arrives only by
   * feedback, the calibration saw every answer that parsed as right and opened the slack to its bound.
   */
  revise(target: number, previous: number, observed: number): void {
    this.step(target, observed - previous);
  }

  /**
   * A decision made under a target, with its best eligible prediction. Q̄ is their mean from the first decision
   * (not from an assumed 0.5: a learner trained before its first request predicts near 1, and half the slack sent
   * what it had learned the cheap model does well to the strong one), then over about the last 1 ÷ MEAN_RATE.
   */
  noteBest(bestPredicted: number): void {
    this.noted += 1;
    this.meanBest += Math.max(MEAN_RATE, 1 / this.noted) * (bestPredicted - this.meanBest);
  }

  /** k moves by gain × the quality error, in units of the target's room, within [0, max]. */
  private step(target: number, error: number): void {
    const room = Math.max(MIN_ROOM, 1 - target) * this.meanBest;
    const next = this.k + (this.gain * error) / room;
    this.k = next < 0 ? 0 : next > this.max ? this.max : next;
  }

  reset(): void {
    this.k = 1;
    this.meanBest = 0.5;
    this.observed = 0;
    this.noted = 0;
  }

  exportState(): CalibrationState {
    return { multiplier: this.k, meanBest: this.meanBest, observed: this.observed, noted: this.noted };
  }

  importState(state: unknown): void {
    const parsed = StateSchema.safeParse(state);
    this.reset();
    if (!parsed.success) return;
    this.k = Math.min(this.max, Math.max(0, parsed.data.multiplier));
    this.meanBest = Math.min(1, Math.max(0, parsed.data.meanBest));
    this.observed = parsed.data.observed;
    this.noted = parsed.data.noted ?? Math.round(1 / MEAN_RATE);
  }
}
