import { z } from "zod";
import type { AdaptationPlan } from "./analyzer.js";
import type { LearnedChoice } from "./learner.js";
import { SAMPLING_FIELDS, type ParameterSource } from "./parameters.js";
import { STRATEGIES, type Strategy } from "./strategies.js";

/**
 * What an execution stores of its adaptation (parameters.adaptation), shown by GET /v1/executions/:id and named by
 * its audit event. Ids, digests, names and numbers only — never exemplar text, which stays in the executions it
 * came from — so it survives erasure whole.
 */
export interface AdaptationRecord {
  taskClass: string;
  mode: AdaptationPlan["mode"];
  /** Strategies that could have changed this generation, and those that did. */
  eligible: Strategy[];
  strategies: Strategy[];
  preset: string | null;
  /** Where each sampling value came from: the request, a strategy's need, what was learned, or the operator's defaults. */
  sources: Partial<Record<(typeof SAMPLING_FIELDS)[number] | "maxTokens", ParameterSource>>;
  adapter: { id: string; sha256: string; version: number } | null;
  /** Execution ids of the exemplars shown, in prompt order. */
  exemplars: string[];
  /** Estimated prompt tokens the exemplars added. */
  exemplarTokens: number;
  budget: AdaptationPlan["budget"];
  /** The structured answer's label field (AdaptationPlan.labelField), where it has one. */
  labelField?: string;
  /** The automatic reward, and whether the learner took it before any feedback (see rewards.ts). */
  reward: { automatic: number | null; learned: boolean };
}

const Source = z.enum(["request", "strategy", "learned", "operator"]);
const StoredRecord = z.object({
  taskClass: z.string(),
  mode: z.enum(["off", "cold", "forced", "explore", "learned"]),
  eligible: z.array(z.enum(STRATEGIES)),
  strategies: z.array(z.enum(STRATEGIES)),
  preset: z.string().nullable(),
  sources: z.partialRecord(z.enum([...SAMPLING_FIELDS, "maxTokens"]), Source),
  adapter: z.object({ id: z.string(), sha256: z.string(), version: z.number() }).nullable(),
  exemplars: z.array(z.string()),
  exemplarTokens: z.number(),
  budget: z.object({ exemplars: z.number(), exemplarTokens: z.number() }),
  labelField: z.string().optional(),
  reward: z.object({ automatic: z.number().nullable(), learned: z.boolean() }),
});

/** The adaptation record of a stored execution's parameters, or null when it has none (or one this cannot read). */
export function adaptationRecordOf(parameters: Record<string, unknown>): AdaptationRecord | null {
  const parsed = StoredRecord.safeParse(parameters["adaptation"]);
  return parsed.success ? parsed.data : null;
}

/** What the learner credits for an execution: planned exemplars that found none changed nothing, and teach nothing. */
export function learnedChoiceOf(record: AdaptationRecord, tenant: string, modelId: string): LearnedChoice {
  return { tenant, taskClass: record.taskClass, modelId, eligible: record.eligible, applied: record.strategies, preset: record.preset };
}
