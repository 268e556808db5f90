import type { Classification } from "../../policy/index.js";
import type { ExecutionEndpoint } from "../../store/interface.js";

/**
 * Rated examples: a tenant's executions of a task class that someone judged (POST /v1/feedback; an automatic judge
 * could add its own later), as exemplar candidates for the prompt engineer and — for the adapter half — as the data
 * an adapter is fitted from.
 *
 * Guarantees every implementation keeps, whatever asks:
 *   - only the asking tenant's executions;
 *   - only executions classified at or below the given level (an exemplar never carries data into a request that
 *     may not hold it);
 *   - only executions whose content is still stored: an erased execution is never returned again;
 *   - content only in its stored form: input and output as recorded, with PII as placeholders;
 *   - a corrected execution counts whatever its score, with the correction as its output.
 */

export interface Rating {
  executionId: string;
  tenant: string;
  taskClass: string;
  /** The execution's data classification (its policy record). */
  classification: Classification;
  /** The latest score, 0 … 1. */
  score: number;
  /** The right answer, as the rater gave it (redacted); it stands in for the model's answer wherever examples teach. */
  correction?: unknown;
}

export interface RatedExampleQuery {
  tenant: string;
  taskClass: string;
  /** Levels the request may hold: its own classification and those below it. */
  classifications: readonly Classification[];
  minScore: number;
  /** Most recently rated first, at most this many. */
  limit: number;
}

export interface RatedExample {
  executionId: string;
  endpoint: Exclude<ExecutionEndpoint, "embeddings">;
  /** As stored: a chat or completion input, or a synchronous task's `{input, instructions, schema?}`. */
  input: unknown;
  /** The rater's correction where there is one, else the model's answer. */
  output: unknown;
  /** The model's own answer as stored (the same as `output` unless corrected); absent where a source does not say. */
  answer?: unknown;
  /** The execution's structured-output kind as recorded (`parameters.grammar`: "json_schema", "tools", …); null: free text. */
  grammar?: string | null;
  /**
   * A task's registered schema: the registry's document for the execution's schema reference (tasks show it in the
   * prompt; src/pipeline/task-prompt.ts storedTaskMessages). Absent without a reference, or where the registry lacks it.
   */
  registeredSchema?: Record<string, unknown>;
  /** The label field of the execution's structured answer, as its adaptation record names it (AdaptationRecord.labelField). */
  labelField?: string;
  corrected: boolean;
  score: number;
  classification: Classification;
}

export interface RatedExamples {
  /** Records (or replaces) the latest score of an execution. */
  rate(rating: Rating): Promise<void>;
  find(query: RatedExampleQuery): Promise<RatedExample[]>;
}
