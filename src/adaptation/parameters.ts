import type { GenerationParams } from "../inference/interface.js";

/**
 * Sampling parameters as adaptation handles them: every field optional (absent: the engine's own default), the
 * same names the request and the configuration use. The repeat penalties are llama.cpp's: `repeatPenalty` divides
 * the probability of recently generated tokens (1: off), `presencePenalty` and `frequencyPenalty` subtract.
 */
export interface Sampling {
  temperature?: number;
  topP?: number;
  topK?: number;
  minP?: number;
  repeatPenalty?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
}
export const SAMPLING_FIELDS = ["temperature", "topP", "topK", "minP", "repeatPenalty", "presencePenalty", "frequencyPenalty"] as const satisfies ReadonlyArray<keyof Sampling>;

/**
 * Where the value a generation ran with came from: the caller always wins, then what a strategy the plan applies
 * needs (labels: the most probable label, greedy), then what was learned, then the operator.
 */
export type ParameterSource = "request" | "strategy" | "learned" | "operator";

/** A point of the grid the parameter learner chooses from, per task class and model. */
export interface Preset {
  id: string;
  sampling: Sampling;
}

/**
 * Few points, far apart: a bandit with a handful of rated examples per class can tell them apart, where a fine grid
 * would spread the same evidence thin. "operator" is the operator's defaults unchanged, so learning can also settle
 * on them.
 */
export const PRESETS: readonly Preset[] = [
  { id: "operator", sampling: {} },
  { id: "greedy", sampling: { temperature: 0 } },
  { id: "greedy-no-repeat-penalty", sampling: { temperature: 0, repeatPenalty: 1 } },
  { id: "focused", sampling: { temperature: 0.3, topK: 40, topP: 0.9, minP: 0.05 } },
  { id: "balanced", sampling: { temperature: 0.7, topP: 0.9, minP: 0.05, presencePenalty: 0.2 } },
  { id: "creative", sampling: { temperature: 1, topP: 0.95, minP: 0.05 } },
];

export type Bounds = Partial<Record<keyof Sampling | "maxTokens", { min?: number; max?: number }>>;

export interface ResolvedSampling {
  values: Sampling & { maxTokens: number };
  /** The source of every value set (fields left to the engine's default are absent). */
  sources: Partial<Record<keyof Sampling | "maxTokens", ParameterSource>>;
}

export interface SamplingLayers {
  request: Sampling & { maxTokens?: number };
  /** Values a strategy of the plan requires; absent: none does. */
  strategy?: Sampling;
  /** The chosen preset and learned max_tokens; null when the plan does not adjust parameters. */
  learned: (Sampling & { maxTokens?: number }) | null;
  operator: Sampling & { maxTokens: number };
  /** The operator's bounds on learned values; the caller's explicit values are taken as they are. */
  bounds: Bounds;
}

/** Request > strategy > learned (within the operator's bounds) > operator default, field by field. */
export function resolveSampling(layers: SamplingLayers): ResolvedSampling {
  const values: Record<string, number> = {};
  const sources: ResolvedSampling["sources"] = {};
  for (const field of [...SAMPLING_FIELDS, "maxTokens"] as const) {
    const requested = layers.request[field];
    const required = field === "maxTokens" ? undefined : layers.strategy?.[field];
    const learned = layers.learned?.[field];
    const operator = layers.operator[field];
    if (requested !== undefined) {
      values[field] = requested;
      sources[field] = "request";
    } else if (required !== undefined) {
      values[field] = required;
      sources[field] = "strategy";
    } else if (learned !== undefined) {
      values[field] = clamp(learned, layers.bounds[field]);
      sources[field] = "learned";
    } else if (operator !== undefined) {
      values[field] = operator;
      sources[field] = "operator";
    }
  }
  return { values: values as unknown as ResolvedSampling["values"], sources };
}

/** The sampling part of GenerationParams: penalties become llama.cpp's repeat-penalty group. */
export function generationSampling(sampling: Sampling): Pick<GenerationParams, "temperature" | "topP" | "topK" | "minP" | "repeatPenalty"> {
  const penalised = sampling.repeatPenalty !== undefined || sampling.presencePenalty !== undefined || sampling.frequencyPenalty !== undefined;
  return {
    // The one parameter GenerationParams requires; configuration always gives it a default.
    temperature: sampling.temperature ?? 0.7,
    ...(sampling.topP === undefined ? {} : { topP: sampling.topP }),
    ...(sampling.topK === undefined ? {} : { topK: sampling.topK }),
    ...(sampling.minP === undefined ? {} : { minP: sampling.minP }),
    ...(penalised
      ? {
        repeatPenalty: {
          // Off (1), as it is when no penalty is given at all (node-llama-cpp 3.21.1 passes none to llama.cpp, whose
          // sampler then defaults to 1): presence_penalty 0 must sample exactly as leaving it out does.
          penalty: sampling.repeatPenalty ?? 1,
          ...(sampling.presencePenalty === undefined ? {} : { presencePenalty: sampling.presencePenalty }),
          ...(sampling.frequencyPenalty === undefined ? {} : { frequencyPenalty: sampling.frequencyPenalty }),
        },
      }
      : {}),
  };
}

function clamp(value: number, bound: { min?: number; max?: number } | undefined): number {
  if (bound === undefined) return value;
  if (bound.min !== undefined && value < bound.min) return bound.min;
  if (bound.max !== undefined && value > bound.max) return bound.max;
  return value;
}

/** The caller's explicit values, and the answer length the pipeline would use without adaptation. */
export interface AdjustRequest {
  requested: Sampling & { maxTokens?: number };
  /** The preset and learned max_tokens the plan applies; null when `parameters` does not apply. */
  learned: { preset: Preset; maxTokens: number | null } | null;
  /** What the plan's strategies require of sampling (labels: greedy); absent: nothing. */
  strategy?: Sampling;
  /** max_tokens without adaptation: the structured output's bound or the gateway's default. */
  defaultMaxTokens: number;
}

export interface ParameterAdjuster {
  adjust(request: AdjustRequest): ResolvedSampling;
}

/** Learned values within the operator's bounds; the operator's defaults where nothing else applies. */
export class BoundedParameterAdjuster implements ParameterAdjuster {
  constructor(private readonly defaults: Sampling, private readonly bounds: Bounds) {}

  adjust(request: AdjustRequest): ResolvedSampling {
    const learned = request.learned === null
      ? null
      : { ...request.learned.preset.sampling, ...(request.learned.maxTokens === null ? {} : { maxTokens: request.learned.maxTokens }) };
    return resolveSampling({
      request: request.requested,
      ...(request.strategy === undefined ? {} : { strategy: request.strategy }),
      learned,
      operator: { ...this.defaults, maxTokens: request.defaultMaxTokens },
      bounds: this.bounds,
    });
  }
}
