import type { Rng } from "../util/rng.js";
import { addReward, armMean, armPulls, armScore, emptyArm, type BetaArm } from "./bandit.js";
import { PRESETS, type Preset } from "./parameters.js";
import { STRATEGIES, type Strategy } from "./strategies.js";

/**
 * What adaptation has learned, per tenant and task class, and within a class per model: for each strategy a
 * two-armed bandit (applied or not), over the sampling presets a bandit of their own, how long good answers are
 * (for max_tokens), and how many explicit judgements the class has had. In memory; the feedback integrator saves
 * it as versioned JSON (store/).
 *
 * Strategies are learned independently (a factored bandit): every execution teaches each eligible strategy's
 * decision, so a class needs tens of rated examples, not one batch per combination. What that cannot see —
 * two strategies that only help together — is the price of learning from so few.
 */

export interface ModelClassState {
  strategies: Partial<Record<Strategy, { on: BetaArm; off: BetaArm }>>;
  presets: Record<string, BetaArm>;
  /** Well-rewarded answers that ended on their own, and the longest of them in tokens: what max_tokens learns. */
  goodLengths: { count: number; longest: number };
}

export interface ClassState {
  tenant: string;
  taskClass: string;
  /** Explicit feedback scores given for the class's executions, and how many were at or above the exemplar threshold. */
  feedback: number;
  rated: number;
  models: Record<string, ModelClassState>;
  /** Last use (ms since the epoch): the least recently used classes go first when the table is full. */
  usedAt: number;
}

export const LEARNER_STATE_VERSION = 1;

export interface LearnerStateJson {
  version: typeof LEARNER_STATE_VERSION;
  classes: ClassState[];
}

/** What one execution was run with, as far as learning is concerned (from its adaptation record). */
export interface LearnedChoice {
  tenant: string;
  taskClass: string;
  modelId: string;
  /** Strategies that could have applied, and of those the ones that did. */
  eligible: readonly Strategy[];
  applied: readonly Strategy[];
  /** The sampling preset, when `parameters` applied. */
  preset: string | null;
}

const UNTRIED: Readonly<{ on: BetaArm; off: BetaArm }> = Object.freeze({ on: Object.freeze(emptyArm()), off: Object.freeze(emptyArm()) });

/** Good answers needed before max_tokens is learned, and the room left above the longest one. */
const LENGTH_OBSERVATIONS = 5;
const LENGTH_HEADROOM = 1.25;
const LENGTH_SLACK = 4;

export class AdaptationLearner {
  private classes = new Map<string, ClassState>();

  constructor(private readonly maxClasses: number, private readonly now: () => number = Date.now) {}

  get size(): number {
    return this.classes.size;
  }

  classState(tenant: string, taskClass: string): ClassState | undefined {
    return this.classes.get(keyOf(tenant, taskClass));
  }

  list(): ClassState[] {
    return [...this.classes.values()];
  }

  /**
   * Which eligible strategies apply: Thompson sampling with `rng`, the better mean without (frozen). Synchronous and
   * allocation-light: it runs on every request.
   */
  chooseStrategies(tenant: string, taskClass: string, modelId: string, eligible: readonly Strategy[], rng: Rng | null): Strategy[] {
    const model = this.modelOf(tenant, taskClass, modelId);
    const strategies: Strategy[] = [];
    for (const strategy of eligible) {
      const arms = model?.strategies[strategy] ?? UNTRIED;
      // A tie (nothing learned yet, frozen) leaves the request as it was sent.
      if (armScore(arms.on, rng) > armScore(arms.off, rng)) strategies.push(strategy);
    }
    return strategies;
  }

  /** The sampling preset, chosen the same way; "operator" (the defaults) until another one did better. */
  choosePreset(tenant: string, taskClass: string, modelId: string, rng: Rng | null): Preset {
    const model = this.modelOf(tenant, taskClass, modelId);
    let preset = PRESETS[0]!;
    let best = -1;
    for (const candidate of PRESETS) {
      const score = armScore(model?.presets[candidate.id] ?? UNTRIED.on, rng);
      if (score > best) {
        best = score;
        preset = candidate;
      }
    }
    return preset;
  }

  /** max_tokens learned from the lengths of good answers; null until enough were seen. */
  learnedMaxTokens(tenant: string, taskClass: string, modelId: string): number | null {
    const lengths = this.modelOf(tenant, taskClass, modelId)?.goodLengths;
    if (lengths === undefined || lengths.count < LENGTH_OBSERVATIONS) return null;
    return Math.ceil(lengths.longest * LENGTH_HEADROOM) + LENGTH_SLACK;
  }

  /** Takes a reward for what an execution ran with (weight −1 takes one back, before a revision). */
  learn(choice: LearnedChoice, reward: number, weight: 1 | -1): void {
    const model = this.modelState(choice.tenant, choice.taskClass, choice.modelId);
    for (const strategy of choice.eligible) {
      const arms = (model.strategies[strategy] ??= { on: emptyArm(), off: emptyArm() });
      addReward(choice.applied.includes(strategy) ? arms.on : arms.off, reward, weight);
    }
    if (choice.preset !== null && choice.applied.includes("parameters")) {
      addReward((model.presets[choice.preset] ??= emptyArm()), reward, weight);
    }
  }

  /** A good answer that ended on its own, of this many tokens. */
  observeLength(choice: Pick<LearnedChoice, "tenant" | "taskClass" | "modelId">, completionTokens: number): void {
    const lengths = this.modelState(choice.tenant, choice.taskClass, choice.modelId).goodLengths;
    lengths.count++;
    lengths.longest = Math.max(lengths.longest, completionTokens);
  }

  /** An explicit judgement of one of the class's executions; `rated` when it makes that execution an exemplar. */
  countFeedback(tenant: string, taskClass: string, rated: boolean): void {
    const state = this.touch(tenant, taskClass);
    state.feedback++;
    if (rated) state.rated++;
  }

  reset(): void {
    this.classes.clear();
  }

  exportState(): LearnerStateJson {
    return { version: LEARNER_STATE_VERSION, classes: this.list() };
  }

  /** False (and nothing imported) for state of another layout. */
  importState(state: unknown): boolean {
    if (!isLearnerState(state)) return false;
    this.classes = new Map(state.classes.map((c) => [keyOf(c.tenant, c.taskClass), c]));
    return true;
  }

  /** A compact view of one model's learning in a class, for the admin route. */
  static summary(model: ModelClassState): Record<string, unknown> {
    const strategies = Object.fromEntries(STRATEGIES.flatMap((strategy) => {
      const arms = model.strategies[strategy];
      if (arms === undefined) return [];
      return [[strategy, { on: round(armMean(arms.on)), off: round(armMean(arms.off)), pulls: { on: round(armPulls(arms.on)), off: round(armPulls(arms.off)) } }]];
    }));
    const presets = Object.fromEntries(Object.entries(model.presets).map(([id, arm]) => [id, { mean: round(armMean(arm)), pulls: round(armPulls(arm)) }]));
    return { strategies, presets, goodLengths: model.goodLengths };
  }

  private modelOf(tenant: string, taskClass: string, modelId: string): ModelClassState | undefined {
    return this.classState(tenant, taskClass)?.models[modelId];
  }

  private modelState(tenant: string, taskClass: string, modelId: string): ModelClassState {
    const state = this.touch(tenant, taskClass);
    return (state.models[modelId] ??= { strategies: {}, presets: {}, goodLengths: { count: 0, longest: 0 } });
  }

  private touch(tenant: string, taskClass: string): ClassState {
    const key = keyOf(tenant, taskClass);
    let state = this.classes.get(key);
    if (state === undefined) {
      if (this.classes.size >= this.maxClasses) this.evictLeastRecentlyUsed();
      state = { tenant, taskClass, feedback: 0, rated: 0, models: {}, usedAt: this.now() };
      this.classes.set(key, state);
    } else {
      state.usedAt = this.now();
    }
    return state;
  }

  private evictLeastRecentlyUsed(): void {
    let oldest: string | undefined;
    let oldestAt = Infinity;
    for (const [key, state] of this.classes) {
      if (state.usedAt < oldestAt) {
        oldest = key;
        oldestAt = state.usedAt;
      }
    }
    if (oldest !== undefined) this.classes.delete(oldest);
  }
}

function keyOf(tenant: string, taskClass: string): string {
  return `${tenant}\u0000${taskClass}`;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function isLearnerState(value: unknown): value is LearnerStateJson {
  if (typeof value !== "object" || value === null) return false;
  const state = value as Partial<LearnerStateJson>;
  return state.version === LEARNER_STATE_VERSION && Array.isArray(state.classes) &&
    state.classes.every((c) => typeof c?.tenant === "string" && typeof c.taskClass === "string" && typeof c.models === "object" && c.models !== null);
}
