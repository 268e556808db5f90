import type { TaskType } from "../bidding/features.js";
import type { Classification } from "../policy/classification.js";
import type { ExecutionEndpoint, SchemaRef } from "../store/interface.js";
import type { Rng } from "../util/rng.js";
import { labelFieldOf } from "./adapters/fit/answer-prefix.js";
import type { AdapterCatalog, AdapterRef } from "./adapters/interface.js";
import type { AdaptationLearner } from "./learner.js";
import type { Preset } from "./parameters.js";
import type { AdaptationRequest, Strategy } from "./strategies.js";
import { taskClassOf } from "./task-class.js";

/** What the analyzer reads of a request, once its model is chosen: all of it known before inference, no I/O. */
export interface AdaptationContext {
  tenant: string;
  /** The request's data classification: adapters fitted on data above it are not applied. */
  classification: Classification;
  endpoint: Exclude<ExecutionEndpoint, "embeddings">;
  /** The bidding features' task type (classification, extraction, …). */
  taskType: TaskType;
  /** The caller's `atomic_task` label. */
  declaredTask?: string;
  schema: SchemaRef | null;
  modelId: string;
  /** The model's context window and what the request already takes of it (estimated tokens, answer included). */
  contextTokens: number;
  inputTokens: number;
  maxTokens: number;
  /** The output's grammar: an answer format, or tools the model may call. */
  structured: "json_schema" | "json_object" | "tools" | null;
  /** The JSON schema the answer is held to (`structured: "json_schema"`), as given to the model. */
  answerSchema?: Record<string, unknown> | null;
  /** The request shows its schema to the model already (tasks do). */
  schemaShown: boolean;
  requested: AdaptationRequest;
  /** The winning bid's promised latency; null when the caller named the model. */
  expectedLatencyMs: number | null;
}

/**
 * off: the caller asked for none. cold: the class has had too little feedback to learn from, so nothing is applied
 * (and what happens is still learned). forced: the caller named the strategies. explore: Thompson sampling.
 * learned: the best of what was learned, without exploring (the learner is frozen).
 */
export type PlanMode = "off" | "cold" | "forced" | "explore" | "learned";

export interface AdaptationPlan {
  taskClass: string;
  mode: PlanMode;
  /** Strategies that could apply to this request; what the plan decides about each is learned. */
  eligible: Strategy[];
  /** Those the plan applies. */
  strategies: Strategy[];
  /** The sampling preset, when `parameters` applies. */
  preset: Preset | null;
  /** max_tokens learned from good answers' lengths, when `parameters` applies and enough were seen. */
  learnedMaxTokens: number | null;
  adapter: AdapterRef | null;
  /** The labels a free-text answer is held to, when `labels` applies. */
  labels: readonly string[] | null;
  /**
   * The structured answer's label field (adapters/fit/answer-prefix.ts: its schema's one string-enum property), null
   * for any other answer: recorded, so that rated answers of the class can be fitted at that field.
   */
  labelField: string | null;
  budget: { exemplars: number; exemplarTokens: number };
}

export interface ContextAnalyzer {
  analyze(context: AdaptationContext): AdaptationPlan;
}

export interface AnalyzerOptions {
  /** Explicit feedback scores a class needs before plans are learned for it. */
  minFeedback: number;
  exemplars: { maxCount: number; maxPromptTokens: number };
  /** Latency the exemplars may add at most (ms), at the model's measured prompt speed; null: no limit. */
  maxAddedLatencyMs: number | null;
}

/** Room left in the context window besides the request and its answer, for the template's own tokens. */
const CONTEXT_MARGIN = 64;

/** Names the task class and chooses the plan from what the learner holds; synchronous, for every request. */
export class LearnedContextAnalyzer implements ContextAnalyzer {
  constructor(
    private readonly learner: AdaptationLearner,
    private readonly adapters: AdapterCatalog,
    private readonly options: AnalyzerOptions,
    private readonly rng: Rng,
    private readonly isFrozen: () => boolean,
    /** The model's measured milliseconds per prompt token (the bidding estimates), for the latency budget. */
    private readonly promptTokenMs: (modelId: string) => number | null = () => null,
  ) {}

  analyze(context: AdaptationContext): AdaptationPlan {
    const taskClass = taskClassOf({ endpoint: context.endpoint, taskType: context.taskType, declared: context.declaredTask, schema: context.schema });
    const answer = context.structured === "json_schema" ? labelFieldOf(context.answerSchema) : null;
    const labelField = answer?.field ?? null;
    const none = { taskClass, eligible: [], strategies: [], preset: null, learnedMaxTokens: null, adapter: null, labels: null, labelField, budget: { exemplars: 0, exemplarTokens: 0 } };
    if (context.requested === "off") return { ...none, mode: "off" };

    const forced = typeof context.requested === "object" ? context.requested.strategies : null;
    const state = this.learner.classState(context.tenant, taskClass);
    const exemplarTokens = this.exemplarTokenBudget(context);
    const current = this.adapters.current(context.modelId, taskClass, { tenant: context.tenant, classification: context.classification });
    // An adapter fitted at a structured answer's label field serves answers with that field, whose values include
    // its labels, and no other answer (its probe was fitted where that field's value begins, not elsewhere).
    const adapter = current?.labelField === undefined || (answer !== null && answer.field === current.labelField && (current.labels ?? []).every((l) => answer.labels.includes(l))) ? current : null;
    const eligible: Strategy[] = [];
    // Exemplars once the class has a rated example (or when asked for: the lookup then says whether there is one).
    // Not beside tools: an exemplar is a question and its answer, and would teach the model to answer instead of calling.
    const exemplarsFit = exemplarTokens > 0 && context.structured !== "tools";
    if (exemplarsFit && ((state?.rated ?? 0) > 0 || forced?.includes("exemplars"))) eligible.push("exemplars");
    eligible.push("parameters");
    if (context.structured === "json_schema" && !context.schemaShown) eligible.push("schema_instructions");
    if (adapter !== null) eligible.push("adapter");
    // The class's labels are known from its fitted adapter; an answer with a format of its own keeps it.
    const labels = adapter?.labels !== undefined && adapter.labels.length > 0 && adapter.labelField === undefined && context.structured === null ? adapter.labels : null;
    if (labels !== null) eligible.push("labels");
    const budget = { exemplars: eligible.includes("exemplars") ? this.options.exemplars.maxCount : 0, exemplarTokens: eligible.includes("exemplars") ? exemplarTokens : 0 };

    let mode: PlanMode;
    let strategies: Strategy[];
    const frozen = this.isFrozen();
    if (forced !== null) {
      mode = "forced";
      strategies = eligible.filter((strategy) => forced.includes(strategy));
    } else if ((state?.feedback ?? 0) < this.options.minFeedback) {
      return { ...none, mode: "cold", eligible, budget };
    } else {
      mode = frozen ? "learned" : "explore";
      strategies = this.learner.chooseStrategies(context.tenant, taskClass, context.modelId, eligible, frozen ? null : this.rng);
    }
    // A forced plan applies what was learned, not a draw: it is there to measure a strategy.
    const parameters = strategies.includes("parameters");
    const explore = mode === "explore" ? this.rng : null;
    return {
      taskClass,
      mode,
      eligible,
      strategies,
      preset: parameters ? this.learner.choosePreset(context.tenant, taskClass, context.modelId, explore) : null,
      // Structured output is bounded by its grammar already.
      learnedMaxTokens: parameters && context.structured === null ? this.learner.learnedMaxTokens(context.tenant, taskClass, context.modelId) : null,
      adapter: strategies.includes("adapter") ? adapter : null,
      labels: strategies.includes("labels") ? labels : null,
      labelField,
      budget,
    };
  }

  private exemplarTokenBudget(context: AdaptationContext): number {
    let tokens = Math.min(this.options.exemplars.maxPromptTokens, context.contextTokens - context.inputTokens - context.maxTokens - CONTEXT_MARGIN);
    const msPerToken = this.options.maxAddedLatencyMs === null ? null : this.promptTokenMs(context.modelId);
    if (msPerToken !== null && msPerToken > 0) tokens = Math.min(tokens, Math.floor(this.options.maxAddedLatencyMs! / msPerToken));
    return Math.max(0, tokens);
  }
}
