import type { Pool } from "pg";
import type { Rng } from "../util/rng.js";
import { AdapterFitJobs } from "./adapters/fit-jobs.js";
import { AutoFitter, type AutoFitEvent, type AutoFitOptions } from "./adapters/auto-fit.js";
import type { AdapterFitService } from "./adapters/fit-service.js";
import type { AdapterCatalog } from "./adapters/interface.js";
import { LearnedContextAnalyzer, type AnalyzerOptions, type ContextAnalyzer } from "./analyzer.js";
import { PostgresRatedExamples } from "./exemplars/postgres.js";
import { ExemplarSelector } from "./exemplars/select.js";
import { BanditFeedbackIntegrator, type FeedbackIntegrator, type IntegratorState } from "./integrator.js";
import { AdaptationLearner } from "./learner.js";
import { BoundedParameterAdjuster, type Bounds, type ParameterAdjuster, type Sampling } from "./parameters.js";
import { ExemplarPromptEngineer, type PromptEngineer } from "./prompt.js";
import { PostgresAdaptationStateStore } from "./store/postgres.js";

/**
 * Inference-time adaptation: the four parts the pipeline's adapt and learn steps call (src/pipeline/steps), each
 * behind its interface.
 *   - analyzer: names the task class and plans which strategies apply (analyzer.ts);
 *   - adjuster: sampling parameters, request > learned > operator (parameters.ts);
 *   - engineer: the prompt, with exemplars and schema instructions (prompt.ts, exemplars/);
 *   - integrator: rewards and feedback into what is learned, persisted (integrator.ts, learner.ts, store/).
 * LoRA adapters come in through AdapterCatalog (adapters/interface.ts).
 */
export interface Adaptation {
  analyzer: ContextAnalyzer;
  adjuster: ParameterAdjuster;
  engineer: PromptEngineer;
  integrator: FeedbackIntegrator;
}

/** The operator's side: what was learned per class, and freeze, unfreeze, reset, save. */
export interface AdaptationAdmin {
  learner: AdaptationLearner;
  adapters: AdapterCatalog;
  /** Adapters fitted from a tenant's rated executions, off the request path. */
  fits: AdapterFitJobs;
  /** Fits the ratings start themselves (adaptation.autoFit); absent when off. */
  autoFit?: AutoFitter;
  state(): IntegratorState;
  freeze(): Promise<void>;
  unfreeze(): Promise<void>;
  reset(): Promise<void>;
  checkpoint(): Promise<void>;
}

export interface AdaptationSettings extends AnalyzerOptions {
  exemplars: AnalyzerOptions["exemplars"] & { minScore: number; candidates: number };
  parameters: { defaults: Sampling; bounds: Bounds };
  saveEvery: number;
  maxClasses: number;
  autoFit: AutoFitOptions & { enabled: boolean };
}

export interface AdaptationStores {
  pool: Pool;
  adapters: AdapterCatalog;
  fitService: AdapterFitService;
  rng: Rng;
  /** The model's measured milliseconds per prompt token, for the latency budget of exemplars. */
  promptTokenMs?: (modelId: string) => number | null;
  onSaveError?: (error: unknown) => void;
  onFitError?: (error: unknown) => void;
  /** Told what each automatic fit did: started, refused (with why) or failed. */
  onAutoFit?: (event: AutoFitEvent) => void;
}

/** Assembles adaptation on PostgreSQL and loads what was learned before. */
export async function openAdaptation(settings: AdaptationSettings, stores: AdaptationStores): Promise<Adaptation & { admin: AdaptationAdmin }> {
  const learner = new AdaptationLearner(settings.maxClasses);
  // The ratings the integrator writes are the ones exemplars and fits read.
  const rated = new PostgresRatedExamples(stores.pool);
  const integrator = new BanditFeedbackIntegrator(learner, new PostgresAdaptationStateStore(stores.pool), rated, {
    minScore: settings.exemplars.minScore,
    saveEvery: settings.saveEvery,
    ...(stores.onSaveError === undefined ? {} : { onSaveError: stores.onSaveError }),
  });
  await integrator.load();
  const selector = new ExemplarSelector(rated, { minScore: settings.exemplars.minScore, candidates: settings.exemplars.candidates });
  const fits = new AdapterFitJobs(stores.fitService, rated, settings.exemplars.minScore, stores.onFitError);
  return {
    analyzer: new LearnedContextAnalyzer(learner, stores.adapters, settings, stores.rng, () => integrator.frozen, stores.promptTokenMs),
    adjuster: new BoundedParameterAdjuster(settings.parameters.defaults, settings.parameters.bounds),
    engineer: new ExemplarPromptEngineer(selector),
    integrator,
    admin: {
      learner,
      adapters: stores.adapters,
      fits,
      ...(settings.autoFit.enabled ? { autoFit: new AutoFitter(fits, settings.autoFit, stores.onAutoFit ?? (() => undefined)) } : {}),
      state: () => integrator.state(),
      freeze: () => integrator.freeze(),
      unfreeze: () => integrator.unfreeze(),
      reset: () => integrator.reset(),
      checkpoint: () => integrator.checkpoint(),
    },
  };
}
