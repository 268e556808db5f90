/**
 * A seedable random source. Selection must be reproducible in tests and in the replay bench, so nothing in
 * src/bidding reaches for Math.random on its own: a policy that needs randomness is handed one of these.
 */
export type Rng = () => number;

/** mulberry32: 32 bits of state, fast, good enough for tie-breaking and simulation (not for secrets). */
export function seededRng(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const defaultRng: Rng = Math.random;
