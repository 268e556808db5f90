import type { Classification } from "../../policy/classification.js";
import { FitError } from "./fit/fit-adapter.js";
import type { AdapterFitJobs, FitJob } from "./fit-jobs.js";

export interface AutoFitOptions {
  /** New ratings of a tenant's task class on a model that start a fit. */
  minExamples: number;
  /** The most recently rated examples a fit reads. */
  maxExamples: number;
}

/** One rating, as the feedback route knows it. */
export interface RatingArrived {
  tenant: string;
  taskClass: string;
  /** The model that answered the rated execution: the base an adapter would be fitted on. */
  baseModel: string;
  /** The rated execution's classification: a fit reads examples at or below it. */
  classification: Classification;
}

export type AutoFitEvent =
  | { kind: "started"; job: FitJob }
  | { kind: "refused"; rating: RatingArrived; code: string; message: string }
  | { kind: "failed"; rating: RatingArrived; error: unknown };

/**
 * Fits started by the ratings themselves (`adaptation.autoFit`): once a tenant's task class has `minExamples` new
 * ratings on a model, a fit from its rated executions starts, exactly as an operator's would (fit-jobs.ts): off the
 * request path, one at a time, audited, the candidate promoted only if it beats the adapter in service on held-back
 * examples — so fitting again as ratings accumulate can only replace an adapter with a better one. A class whose
 * answers are not label-like is refused by the fit and tried again only after as many ratings more. Counts live in
 * memory: after a restart a class needs `minExamples` ratings again.
 */
export class AutoFitter {
  private readonly counts = new Map<string, number>();

  constructor(
    private readonly jobs: Pick<AdapterFitJobs, "start">,
    private readonly options: AutoFitOptions,
    private readonly report: (event: AutoFitEvent) => void,
  ) {}

  /** A rating arrived; resolves with the fit it started, if any. Never rejects: the rating stands either way. */
  async rated(rating: RatingArrived): Promise<FitJob | null> {
    const key = JSON.stringify([rating.tenant, rating.taskClass, rating.baseModel]);
    const count = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, count < this.options.minExamples ? count : 0);
    if (count < this.options.minExamples) return null;
    try {
      const job = await this.jobs.start({
        tenant: rating.tenant,
        baseModel: rating.baseModel,
        taskClass: rating.taskClass,
        maxClassification: rating.classification,
        maxExamples: this.options.maxExamples,
        actor: { subject: "atomic:auto-fit", tenant: rating.tenant },
      });
      this.report({ kind: "started", job });
      return job;
    } catch (error) {
      this.report(error instanceof FitError ? { kind: "refused", rating, code: error.code, message: error.message } : { kind: "failed", rating, error });
      return null;
    }
  }
}
