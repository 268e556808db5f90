import type { Bid } from "../bids.js";
import type { Rng } from "../../util/rng.js";
import { argmaxEligible, type Estimate, type Selection, type SelectionContext, type SelectionPolicy } from "./interface.js";

/**
 * Fixed rules that learn nothing, for the replay bench to measure the learner against (and for an operator who
 * wants one of them). Their estimates are uninformed: mean 0.5, bound 1, so minConfidence never excludes on their
 * account. A fixed rule always exploits its rule, except random, which is all exploration.
 */
abstract class FixedRule implements SelectionPolicy {
  abstract readonly name: string;
  readonly predictsProbabilities = false;
  private isFrozen = false;

  get frozen(): boolean {
    return this.isFrozen;
  }

  estimate(_modelId: string, _x: unknown, out: Estimate): void {
    out.mean = 0.5;
    out.upper = 1;
    out.sample = 0.5;
    out.observations = 0;
  }

  choose(bids: readonly Bid[], _context?: SelectionContext): Selection {
    const index = this.pick(bids);
    return { index, greedyIndex: index, mode: "exploit", rule: this.rule };
  }

  protected abstract readonly rule: string;
  protected abstract pick(bids: readonly Bid[]): number;

  update(): void {}
  revise(): void {}
  freeze(): void {
    this.isFrozen = true;
  }
  unfreeze(): void {
    this.isFrozen = false;
  }
  reset(): void {}
  observations(): Record<string, number> {
    return {};
  }
  exportState(): unknown {
    return { format: `${this.name}/1` };
  }
  importState(state: unknown): boolean {
    return typeof state === "object" && state !== null && (state as { format?: unknown }).format === `${this.name}/1`;
  }
}

/** Index of the eligible bid with the lowest (or, negated, highest) value; ties go to the earlier bid. */
function argminEligible(bids: readonly Bid[], value: (bid: Bid) => number): number {
  let best = -1;
  let bestValue = Infinity;
  for (let i = 0; i < bids.length; i++) {
    const bid = bids[i]!;
    const v = value(bid);
    if (bid.eligible && v < bestValue) {
      best = i;
      bestValue = v;
    }
  }
  return best;
}

export class RandomPolicy extends FixedRule {
  readonly name = "random";
  protected readonly rule = "a uniformly random eligible bid";
  constructor(private readonly rng: Rng) {
    super();
  }

  override choose(bids: readonly Bid[], _context?: SelectionContext): Selection {
    const index = this.pick(bids);
    return { index, greedyIndex: index, mode: "explore", rule: this.rule };
  }

  protected pick(bids: readonly Bid[]): number {
    let eligible = 0;
    for (const bid of bids) if (bid.eligible) eligible++;
    let k = Math.floor(this.rng() * eligible);
    for (let i = 0; i < bids.length; i++) if (bids[i]!.eligible && k-- === 0) return i;
    return argmaxEligible(bids, "score");
  }
}

/** Takes the candidates in turn, skipping those excluded for this microtask. */
export class RoundRobinPolicy extends FixedRule {
  readonly name = "round-robin";
  protected readonly rule = "the next eligible candidate in turn";
  private next = 0;

  protected pick(bids: readonly Bid[]): number {
    for (let step = 0; step < bids.length; step++) {
      const i = (this.next + step) % bids.length;
      if (bids[i]!.eligible) {
        this.next = i + 1;
        return i;
      }
    }
    return -1;
  }

  override reset(): void {
    this.next = 0;
  }
}

export class CheapestPolicy extends FixedRule {
  readonly name = "cheapest";
  protected readonly rule = "the eligible bid with the lowest expected cost";
  protected pick(bids: readonly Bid[]): number {
    return argminEligible(bids, (bid) => bid.cost);
  }
}

/**
 * The lowest expected latency, fairly: a candidate whose speed was never measured is tried first, since its
 * expected latency is only the prior (otherwise a prior that beats the first model measured means the others are
 * never tried, and the rule is "the first model measured", not "the fastest").
 */
export class LowestLatencyPolicy extends FixedRule {
  readonly name = "lowest-latency";
  protected readonly rule = "the eligible bid with the lowest expected latency, once every candidate's speed was measured";
  protected pick(bids: readonly Bid[]): number {
    for (let i = 0; i < bids.length; i++) if (bids[i]!.eligible && bids[i]!.latencyObservations === 0) return i;
    return argminEligible(bids, (bid) => bid.latencyMs);
  }
}

/** The candidate with the highest prior strength (by default the largest model file). */
export class StrongestPolicy extends FixedRule {
  readonly name = "strongest";
  protected readonly rule = "the eligible candidate with the highest prior strength";
  protected pick(bids: readonly Bid[]): number {
    return argminEligible(bids, (bid) => -bid.strength);
  }
}
