import type { Rng } from "../util/rng.js";

/**
 * One arm of a Bernoulli bandit with fractional rewards: a reward r in [0, 1] adds r to `wins` and 1 − r to
 * `losses`, and the arm's belief is Beta(1 + wins, 1 + losses). A revised reward (feedback after the automatic one)
 * is taken back with weight −1 and the new one added, so the sums stay those of the latest rewards.
 */
export interface BetaArm {
  wins: number;
  losses: number;
}

export function emptyArm(): BetaArm {
  return { wins: 0, losses: 0 };
}

export function addReward(arm: BetaArm, reward: number, weight: 1 | -1): void {
  // Never below zero: a take-back of a reward the arm never held (state reset in between) must not poison it.
  arm.wins = Math.max(0, arm.wins + weight * reward);
  arm.losses = Math.max(0, arm.losses + weight * (1 - reward));
}

export function armMean(arm: BetaArm): number {
  return (1 + arm.wins) / (2 + arm.wins + arm.losses);
}

export function armPulls(arm: BetaArm): number {
  return arm.wins + arm.losses;
}

/** Thompson sampling draws from each arm's belief; exploitation (frozen, or told so) compares the means. */
export function armScore(arm: BetaArm, rng: Rng | null): number {
  return rng === null ? armMean(arm) : sampleBeta(1 + arm.wins, 1 + arm.losses, rng);
}

/** Beta(a, b) as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b); a, b ≥ 1 here (the prior is Beta(1, 1)). */
export function sampleBeta(a: number, b: number, rng: Rng): number {
  const x = sampleGamma(a, rng);
  const y = sampleGamma(b, rng);
  return x + y === 0 ? 0.5 : x / (x + y);
}

/** Marsaglia and Tsang's method (2000) for shape ≥ 1: a few uniform draws per sample, no tables. */
function sampleGamma(shape: number, rng: Rng): number {
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = sampleNormal(rng);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng();
    if (u < 1 - 0.0331 * x * x * x * x) return d * v;
    if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

function sampleNormal(rng: Rng): number {
  // Box–Muller; 1 − u keeps the logarithm finite.
  const u = 1 - rng();
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
