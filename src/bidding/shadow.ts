import type { LearnerInput } from "./features.js";

/**
 * Shadow runs. On a share of the requests bidding sends to a dearer model, the cheapest eligible model answers the
 * same request too, off the answer path, and whether the two answers agree is the cheap model's outcome on a
 * request it was not chosen for — exactly the requests where the learner must tell "escalate" from "don't", and
 * whose outcome it otherwise never sees (a bandit learns only the chosen model's). Nobody is asked for more
 * feedback: the served answer's reward (automatic, revised by feedback like any other) is read through agreement:
 *  - the answers agree: the cheap model earned what the served answer earned;
 *  - they differ and the served answer earned a full reward: the cheap model's answer was wrong (0);
 *  - they differ and the served answer was not fully right: nothing is known, nothing is learned.
 * Only requests whose answers can be compared are shadowed (the gateway decides: structured output, short answers).
 */
export interface ShadowPlan {
  microtaskId: string;
  modelId: string;
}

/** What the shadow model's answer taught, given whether it agreed with the served one and the served reward. */
export function shadowLabel(agrees: boolean, servedReward: number): number | null {
  if (agrees) return servedReward;
  return servedReward >= 1 ? 0 : null;
}

/** One change the learner must make: learn `label` for the model, or replace the `previous` label learned for it. */
export interface ShadowLesson {
  modelId: string;
  x: LearnerInput;
  previous: number | null;
  label: number;
}

interface Entry {
  modelId: string;
  x: LearnerInput;
  agrees: boolean | null;
  served: number | null;
  learned: number | null;
}

/**
 * The shadow runs whose lesson is not complete: the served reward and the comparison arrive in either order (and
 * feedback may revise the reward later), so each arrival returns the change it makes, if any. In memory, the
 * oldest forgotten beyond `limit`: a restart loses the lessons still open, never a served answer.
 */
export class ShadowLedger {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly limit: number) {}

  open(executionId: string, modelId: string, x: LearnerInput): void {
    if (this.entries.size >= this.limit) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(executionId, { modelId, x, agrees: null, served: null, learned: null });
  }

  /** The served answer's reward in force (automatic, or revised by feedback). */
  served(executionId: string, reward: number): ShadowLesson | null {
    const entry = this.entries.get(executionId);
    if (entry === undefined) return null;
    entry.served = reward;
    return this.lesson(entry);
  }

  /** Whether the shadow model's answer agreed with the served one. */
  compared(executionId: string, agrees: boolean): ShadowLesson | null {
    const entry = this.entries.get(executionId);
    if (entry === undefined || entry.agrees !== null) return null;
    entry.agrees = agrees;
    return this.lesson(entry);
  }

  /** The shadow did not run (its model was busy, or failed): nothing to learn. */
  drop(executionId: string): void {
    this.entries.delete(executionId);
  }

  clear(): void {
    this.entries.clear();
  }

  private lesson(entry: Entry): ShadowLesson | null {
    if (entry.agrees === null || entry.served === null) return null;
    const label = shadowLabel(entry.agrees, entry.served);
    // A reward revised so that nothing is known any more keeps what was learned: a label is replaced, never removed.
    if (label === null || label === entry.learned) return null;
    const previous = entry.learned;
    entry.learned = label;
    return { modelId: entry.modelId, x: entry.x, previous, label };
  }
}
