/**
 * A seedable random source, for what must be reproducible: selection in tests and the replay bench, generated test
 * models, seeded PII samples. Nothing here is for secrets.
 */
export type Rng = () => number;

/** mulberry32: 32 bits of state, fast, the same sequence on every machine for a seed. */
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
