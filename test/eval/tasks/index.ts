import { arithmeticTasks, HELD_OUT as arithmeticHeldOut } from "./arithmetic.js";
import { capitalTasks, HELD_OUT as capitalHeldOut } from "./capital.js";
import { extractionTasks, HELD_OUT as extractionHeldOut } from "./extraction.js";
import { formatTasks, HELD_OUT as formatHeldOut } from "./format.js";
import { HELD_OUT as sentimentHeldOut, sentimentTasks } from "./sentiment.js";
import { HELD_OUT as topicHeldOut, topicTasks } from "./topic.js";
import type { EvalItem, EvalKind, TaskSet } from "./types.js";

export { DEFAULT_HOLDOUT_SEEDS, DEFAULT_TUNE_SEEDS, HOLDOUT_SEED_FLOOR, splitOfSeed } from "./common.js";
export type { CheckResult, EvalItem, EvalKind, EvalTaskType, TaskSet } from "./types.js";

export const TASK_SETS: readonly TaskSet[] = [sentimentTasks, topicTasks, extractionTasks, arithmeticTasks, capitalTasks, formatTasks];

/**
 * Per kind, text that only holdout items contain: held-out words and the literal parts of held-out templates.
 * (Arithmetic also holds out bare problems by hash, which no marker names.)
 */
export const HELD_OUT_MARKERS: Readonly<Record<EvalKind, readonly string[]>> = {
  sentiment: sentimentHeldOut,
  topic: topicHeldOut,
  extraction: extractionHeldOut,
  arithmetic: arithmeticHeldOut,
  capital: capitalHeldOut,
  format: formatHeldOut,
};

export interface EvalItemOptions {
  seeds: readonly number[];
  /** Items per kind and seed. */
  perKind: number;
  /** Every kind when absent. */
  kinds?: readonly EvalKind[];
}

/** Items kind by kind (in TASK_SETS order), seed by seed: the same options give the same items in the same order. */
export function generateEvalItems({ seeds, perKind, kinds }: EvalItemOptions): EvalItem[] {
  const unknown = (kinds ?? []).filter((kind) => !TASK_SETS.some((set) => set.kind === kind));
  if (unknown.length > 0) throw new Error(`unknown task kinds: ${unknown.join(", ")}`);
  const chosen = TASK_SETS.filter((set) => kinds === undefined || kinds.includes(set.kind));
  return chosen.flatMap((set) => seeds.flatMap((seed) => set.generate(seed, perKind)));
}
