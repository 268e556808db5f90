import type { LearnerInput } from "../../src/bidding/features.js";
import { learnedSelection, type Estimate, type SelectionPolicy } from "../../src/bidding/selection/interface.js";
import type { Table } from "./routing-replay.js";

/**
 * The engine's choice rule fed each generated task's true success probabilities (Task.truth) instead of a learner's
 * predictions: how far the quality target and its online calibration alone stand from the ideal ranking, apart from
 * anything learning costs. Bench only; it reads the table it was made for, and replay passes each task's features
 * through to estimate() as they are, which is how a task is recognised.
 */
export class KnownProbabilitiesPolicy implements SelectionPolicy {
  readonly name = "known-probabilities";
  readonly frozen = false;
  readonly predictsProbabilities = true;
  private readonly truth = new Map<LearnerInput, readonly number[]>();
  private readonly modelIndex: Map<string, number>;

  constructor(table: Table) {
    for (const task of table.tasks) {
      if (task.truth === undefined) throw new Error(`${table.source}: task ${task.id} has no true probabilities`);
      this.truth.set(task.features, task.truth);
    }
    this.modelIndex = new Map(table.models.map((model, i) => [model.id, i]));
  }

  estimate(modelId: string, x: LearnerInput, out: Estimate): void {
    const p = this.truth.get(x)?.[this.modelIndex.get(modelId) ?? -1];
    if (p === undefined) throw new Error(`no true probability for model ${modelId} on this request: not a task of the table`);
    out.mean = p;
    out.upper = p;
    out.sample = p;
    out.observations = 1;
  }

  choose = learnedSelection;
  update(): void {}
  revise(): void {}
  freeze(): void {}
  unfreeze(): void {}
  reset(): void {}
  observations(): Record<string, number> {
    return {};
  }
  exportState(): unknown {
    return null;
  }
  importState(): boolean {
    return false;
  }
}
