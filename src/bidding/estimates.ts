import { TASK_TYPES, type TaskFeatures, type TaskType } from "./features.js";

/**
 * Running estimates that bids read: how fast each model prefills and generates, and how many tokens each kind of
 * task produces. The performance tracker feeds them from every execution; bids only read them.
 *
 * Speed: one execution reports its inference time for prompt and completion together, so the two rates cannot be
 * read off a single observation. Each model keeps a least-squares fit of
 *   inferenceMs ≈ msPer1kPrompt × promptTokens/1000 + msPer1kCompletion × completionTokens/1000
 * over its recent executions (exponential forgetting, so the fit follows a model whose speed changes — another
 * model loaded beside it, thermal limits — within a few hundred requests), pulled gently towards the prior speeds
 * so that the first requests, all of one shape, give sensible rates. The fit keeps its sums rather than a
 * recursive-least-squares covariance: a rate must never go negative, and clipping one inside RLS leaves the
 * covariance inconsistent and the fit stuck; with the sums, the non-negative solution of a 2×2 system is exact.
 */

export interface SpeedPrior {
  /** Prompt tokens per second before anything was measured. Default 400. */
  prefillTokensPerSecond: number;
  /** Completion tokens per second before anything was measured. Default 25. */
  generationTokensPerSecond: number;
}

export interface SpeedEstimate {
  msPerPromptToken: number;
  msPerCompletionToken: number;
  observations: number;
}

const FORGETTING = 0.99;
/** Weight of the prior speeds in the fit, as if one request of 100 prompt and 100 completion tokens. */
const PRIOR_WEIGHT = 0.01;
/** Rates never drop below this (ms per 1000 tokens), so a string of tiny requests cannot make a model look free. */
const MIN_MS_PER_1K = 1;
/** Weight of each new observation in the running token counts. */
const TOKENS_ALPHA = 0.1;
/**
 * A model's own completion length counts as this many observations of the task type's (every model's): its first
 * few answers move the estimate part of the way, its tenth most of it. Models differ in how much they write for
 * the same request (a base model runs on where an instruct model stops), and a model whose price per completion
 * token is high looks dearer or cheaper by exactly that.
 */
const MODEL_TOKENS_SHRINKAGE = 3;

/** Completion tokens before anything was measured: free text by type, JSON per declared property. */
const PRIOR_COMPLETION_TOKENS: Record<TaskType, number> = {
  chat: 200,
  completion: 128,
  structured: 0,
  extraction: 0,
  classification: 8,
  summarization: 180,
};
const PRIOR_TOKENS_PER_PROPERTY = 12;
const JSON_OVERHEAD_TOKENS = 8;

interface ModelSpeed {
  /** Forgetting-weighted sums over executions, tokens in thousands: Σx₀², Σx₀x₁, Σx₁², Σx₀y, Σx₁y. */
  s00: number;
  s01: number;
  s11: number;
  t0: number;
  t1: number;
  /** The fitted rates, ms per 1000 prompt / completion tokens. */
  prompt: number;
  completion: number;
  n: number;
}

export interface EstimatesState {
  /** Per model: its speed fit's sums, and (absent in state saved before 2026-12-07) its own completion lengths. */
  models: Record<string, { sums: [number, number, number, number, number]; n: number; completionTokens?: number[]; completionObservations?: number[] }>;
  /** Per task type (TASK_TYPES order), every model's: completion tokens for free text, tokens per property for JSON. */
  completionTokens: number[];
  completionObservations: number[];
}

/** Running completion lengths per task type: tokens for free text, tokens per property for JSON. */
interface CompletionLengths {
  tokens: Float64Array;
  observations: Float64Array;
}

export class PerformanceEstimates {
  private readonly models = new Map<string, ModelSpeed>();
  private readonly completion: CompletionLengths = newLengths();
  private readonly modelCompletion = new Map<string, CompletionLengths>();
  private readonly prior: SpeedPrior;

  constructor(prior: Partial<SpeedPrior> = {}) {
    this.prior = { prefillTokensPerSecond: prior.prefillTokensPerSecond ?? 400, generationTokensPerSecond: prior.generationTokensPerSecond ?? 25 };
  }

  /** Milliseconds of inference for this many tokens on this model (no queueing). */
  serviceMs(modelId: string, promptTokens: number, completionTokens: number): number {
    const speed = this.models.get(modelId);
    if (speed === undefined) {
      return (promptTokens * 1000) / this.prior.prefillTokensPerSecond + (completionTokens * 1000) / this.prior.generationTokensPerSecond;
    }
    return (promptTokens * speed.prompt + completionTokens * speed.completion) / 1000;
  }

  /** Executions the model's speed fit rests on (0: the prior only). */
  speedObservations(modelId: string): number {
    return this.models.get(modelId)?.n ?? 0;
  }

  speed(modelId: string): SpeedEstimate {
    const speed = this.models.get(modelId);
    if (speed === undefined) {
      return { msPerPromptToken: 1000 / this.prior.prefillTokensPerSecond, msPerCompletionToken: 1000 / this.prior.generationTokensPerSecond, observations: 0 };
    }
    return { msPerPromptToken: speed.prompt / 1000, msPerCompletionToken: speed.completion / 1000, observations: speed.n };
  }

  /**
   * Completion tokens a task of these features is expected to produce on `modelId` (every model's estimate when
   * omitted or while the model has written little of this type), capped by the caller's max_tokens.
   */
  expectedCompletionTokens(features: TaskFeatures, maxTokens?: number, modelId?: string): number {
    const t = TASK_TYPES.indexOf(features.taskType);
    const json = features.json && features.schemaProperties > 0;
    const observed = this.completion.observations[t]!;
    let length = observed > 0 ? this.completion.tokens[t]! : json ? PRIOR_TOKENS_PER_PROPERTY : PRIOR_COMPLETION_TOKENS[features.taskType] || 64;
    const own = modelId === undefined ? undefined : this.modelCompletion.get(modelId);
    const ownObserved = own === undefined ? 0 : own.observations[t]!;
    if (ownObserved > 0) length = (ownObserved * own!.tokens[t]! + MODEL_TOKENS_SHRINKAGE * length) / (ownObserved + MODEL_TOKENS_SHRINKAGE);
    const expected = json ? JSON_OVERHEAD_TOKENS + length * features.schemaProperties : length;
    return maxTokens === undefined ? expected : Math.min(expected, maxTokens);
  }

  observe(modelId: string, features: TaskFeatures, promptTokens: number, completionTokens: number, inferenceMs: number): void {
    this.observeSpeed(modelId, promptTokens, completionTokens, inferenceMs);
    const t = TASK_TYPES.indexOf(features.taskType);
    const value = features.json && features.schemaProperties > 0
      ? Math.max(0, completionTokens - JSON_OVERHEAD_TOKENS) / features.schemaProperties
      : completionTokens;
    observeLength(this.completion, t, value);
    let own = this.modelCompletion.get(modelId);
    if (own === undefined) {
      own = newLengths();
      this.modelCompletion.set(modelId, own);
    }
    observeLength(own, t, value);
  }

  private observeSpeed(modelId: string, promptTokens: number, completionTokens: number, ms: number): void {
    if (!(ms >= 0) || promptTokens + completionTokens <= 0) return;
    let s = this.models.get(modelId);
    if (s === undefined) {
      s = { s00: 0, s01: 0, s11: 0, t0: 0, t1: 0, prompt: 0, completion: 0, n: 0 };
      this.models.set(modelId, s);
    }
    const x0 = promptTokens / 1000;
    const x1 = completionTokens / 1000;
    s.s00 = FORGETTING * s.s00 + x0 * x0;
    s.s01 = FORGETTING * s.s01 + x0 * x1;
    s.s11 = FORGETTING * s.s11 + x1 * x1;
    s.t0 = FORGETTING * s.t0 + x0 * ms;
    s.t1 = FORGETTING * s.t1 + x1 * ms;
    s.n += 1;
    this.solve(s);
  }

  /** Minimises Σ(y − θ·x)² + PRIOR_WEIGHT·|θ − prior|² subject to θ ≥ MIN_MS_PER_1K. */
  private solve(s: ModelSpeed): void {
    const a = s.s00 + PRIOR_WEIGHT;
    const b = s.s01;
    const d = s.s11 + PRIOR_WEIGHT;
    const r0 = s.t0 + (PRIOR_WEIGHT * 1e6) / this.prior.prefillTokensPerSecond;
    const r1 = s.t1 + (PRIOR_WEIGHT * 1e6) / this.prior.generationTokensPerSecond;
    const det = a * d - b * b;
    let prompt = (d * r0 - b * r1) / det;
    let completion = (a * r1 - b * r0) / det;
    // Two unknowns: when one bound is active, the other's optimum given it is a one-dimensional solve.
    if (prompt < MIN_MS_PER_1K) {
      prompt = MIN_MS_PER_1K;
      completion = Math.max(MIN_MS_PER_1K, (r1 - b * prompt) / d);
    } else if (completion < MIN_MS_PER_1K) {
      completion = MIN_MS_PER_1K;
      prompt = Math.max(MIN_MS_PER_1K, (r0 - b * completion) / a);
    }
    s.prompt = prompt;
    s.completion = completion;
  }

  exportState(): EstimatesState {
    const models: EstimatesState["models"] = {};
    // A model may have completion lengths and no speed fit yet (its timings were unusable), or the reverse.
    for (const id of new Set([...this.models.keys(), ...this.modelCompletion.keys()])) {
      const s = this.models.get(id);
      const own = this.modelCompletion.get(id);
      models[id] = {
        sums: s === undefined ? [0, 0, 0, 0, 0] : [s.s00, s.s01, s.s11, s.t0, s.t1],
        n: s?.n ?? 0,
        ...(own === undefined ? {} : { completionTokens: [...own.tokens], completionObservations: [...own.observations] }),
      };
    }
    return { models, completionTokens: [...this.completion.tokens], completionObservations: [...this.completion.observations] };
  }

  importState(state: EstimatesState): void {
    this.reset();
    for (const [id, m] of Object.entries(state.models)) {
      if (!Array.isArray(m.sums) || m.sums.length !== 5) continue;
      const [s00, s01, s11, t0, t1] = m.sums;
      if (m.n > 0) {
        const speed: ModelSpeed = { s00, s01, s11, t0, t1, prompt: 0, completion: 0, n: m.n };
        this.solve(speed);
        this.models.set(id, speed);
      }
      if (m.completionTokens?.length === TASK_TYPES.length && m.completionObservations?.length === TASK_TYPES.length) {
        const own = newLengths();
        own.tokens.set(m.completionTokens);
        own.observations.set(m.completionObservations);
        this.modelCompletion.set(id, own);
      }
    }
    if (state.completionTokens.length === TASK_TYPES.length) this.completion.tokens.set(state.completionTokens);
    if (state.completionObservations.length === TASK_TYPES.length) this.completion.observations.set(state.completionObservations);
  }

  reset(): void {
    this.models.clear();
    this.modelCompletion.clear();
    this.completion.tokens.fill(0);
    this.completion.observations.fill(0);
  }
}

function newLengths(): CompletionLengths {
  return { tokens: new Float64Array(TASK_TYPES.length), observations: new Float64Array(TASK_TYPES.length) };
}

/** The first observation, then an exponentially weighted mean (TOKENS_ALPHA). */
function observeLength(lengths: CompletionLengths, t: number, value: number): void {
  const n = lengths.observations[t]!;
  lengths.tokens[t] = n === 0 ? value : lengths.tokens[t]! + TOKENS_ALPHA * (value - lengths.tokens[t]!);
  lengths.observations[t] = n + 1;
}
