import { labelGrammar } from "../../adaptation/labels.js";
import type { AdaptationRecord } from "../../adaptation/record.js";
import { generationSampling, type Sampling } from "../../adaptation/parameters.js";
import { extractFeatures } from "../../bidding/features.js";
import type { GenerationInput, GenerationParams } from "../../inference/interface.js";
import type { GenerationRequest, PipelineDeps } from "../generate.js";
import type { Ingested } from "./ingest.js";
import { modelInput } from "./model-input.js";
import type { Selected } from "./select.js";

/** The generation as the chosen model will run it. */
export interface Adapted {
  input: GenerationInput;
  params: GenerationParams;
  /** How adaptation shaped it; null where adaptation is off (on this gateway, an `atomic worker`), or a microtask carries no classification. */
  record: Omit<AdaptationRecord, "reward"> | null;
}

/** Without a request's max_tokens or a structured bound: the answer length a generation gets. */
export const DEFAULT_MAX_TOKENS = 256;
/** The temperature a generation gets when neither the request, the learner nor the operator says otherwise. */
const DEFAULT_TEMPERATURE = 0.7;

/**
 * Adapt: between choosing the model and running it, the adaptation engine (src/adaptation) names the task class,
 * plans which strategies apply, builds the prompt (exemplars, schema instructions) and sets the sampling parameters
 * (the request's explicit values always win). Everything it adds is built from the request as given to this model
 * (redacted where the policy says so) and from stored, redacted executions.
 */
export async function adapt(deps: PipelineDeps, request: GenerationRequest, ingested: Ingested, selected: Selected): Promise<Adapted> {
  const { given, steering, model } = selected;
  const shown = modelInput(given, request.showSchema);
  // Structured output is bounded by its grammar; leaving room for the whole of it means generation cannot stop
  // inside a string. The vocabulary's shortest token is one character, so characters bound tokens.
  const structuredBound = steering?.maxOutputChars != null ? steering.maxOutputChars + 8 : undefined;
  const defaultMaxTokens = structuredBound ?? DEFAULT_MAX_TOKENS;
  const requested = requestedSampling(request);
  const common = {
    ...(given.stop ? { stop: given.stop } : {}),
    ...(steering ? { grammar: steering.grammar } : {}),
    ...(request.options.logprobs === undefined ? {} : { logprobs: request.options.logprobs }),
  };
  const limit = deps.limits.maxTokensLimit;
  const adaptation = deps.adaptation;
  // A microtask of an asynchronous task runs at the classification its task was cleared at on submission.
  const classification = request.policy?.classification ?? request.cleared?.classification;
  if (adaptation === undefined || classification === undefined) {
    const maxTokens = Math.min(request.options.maxTokens ?? defaultMaxTokens, limit);
    return { input: shown, params: { maxTokens, ...generationSampling({ temperature: DEFAULT_TEMPERATURE, ...requested }), ...common }, record: null };
  }

  const features = selected.decision?.plan.microtasks[0]?.features ?? extractFeatures(ingested.bidding);
  const plan = adaptation.analyzer.analyze({
    tenant: request.actor.tenant,
    classification,
    endpoint: request.endpoint,
    taskType: features.taskType,
    ...(request.options.task === undefined ? {} : { declaredTask: request.options.task }),
    schema: request.structured?.kind === "json_schema" ? request.structured.ref : null,
    modelId: model.id,
    contextTokens: model.contextLength,
    inputTokens: features.inputTokens,
    maxTokens: Math.min(request.options.maxTokens ?? defaultMaxTokens, limit),
    structured: request.structured?.kind ?? null,
    answerSchema: given.structured?.kind === "json_schema" ? given.structured.schema : null,
    schemaShown: request.showSchema === true,
    requested: request.options.adaptation ?? "auto",
    expectedLatencyMs: selected.decision?.assignments[0]?.expectedLatencyMs ?? null,
  });
  const prompt = await adaptation.engineer.build({
    tenant: request.actor.tenant,
    classification,
    plan,
    input: shown,
    ...(given.structured?.kind === "json_schema" ? { schema: given.structured.schema } : {}),
  });
  const sampling = adaptation.adjuster.adjust({
    requested: { ...requested, ...(request.options.maxTokens === undefined ? {} : { maxTokens: request.options.maxTokens }) },
    learned: plan.preset === null ? null : { preset: plan.preset, maxTokens: plan.learnedMaxTokens },
    // An answer held to labels is a classification: the most probable label, not a draw among them.
    ...(plan.labels === null ? {} : { strategy: { temperature: 0 } }),
    defaultMaxTokens,
  });
  const { maxTokens, ...values } = sampling.values;
  // Exemplars planned but none found changed nothing: they are neither applied nor learned from.
  const unused = plan.strategies.includes("exemplars") && prompt.exemplars.length === 0 ? "exemplars" : null;
  const adapter = plan.adapter;
  return {
    input: prompt.input,
    params: {
      maxTokens: Math.min(maxTokens, limit),
      ...generationSampling(values),
      ...common,
      ...(plan.labels === null ? {} : { grammar: labelGrammar(plan.labels) }),
      ...(adapter === null ? {} : { adapter: { id: adapter.id, path: adapter.path, sha256: adapter.sha256, scale: adapter.scale } }),
    },
    record: {
      taskClass: plan.taskClass,
      mode: plan.mode,
      eligible: plan.eligible.filter((s) => s !== unused),
      strategies: plan.strategies.filter((s) => s !== unused),
      preset: plan.preset?.id ?? null,
      sources: sampling.sources,
      adapter: adapter === null ? null : { id: adapter.id, sha256: adapter.sha256, version: adapter.version },
      exemplars: prompt.exemplars,
      exemplarTokens: prompt.exemplarTokens,
      budget: plan.budget,
      ...(plan.labelField === null ? {} : { labelField: plan.labelField }),
    },
  };
}

/** The sampling values the caller set explicitly: they win over anything learned or configured. */
function requestedSampling(request: GenerationRequest): Sampling {
  const { temperature, topP, topK, minP, repeatPenalty, presencePenalty, frequencyPenalty } = request.options;
  const given: Sampling = { temperature, topP, topK, minP, repeatPenalty, presencePenalty, frequencyPenalty };
  return Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined));
}
