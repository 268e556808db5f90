import { estimateTokens } from "../../bidding/features.js";
import { CLASSIFICATIONS, classificationLevel, type Classification } from "../../policy/classification.js";
import type { RatedExamples } from "./interface.js";
import { LexicalSimilarity } from "./similarity.js";
import { exemplarText, type ExemplarText } from "./text.js";

export interface ExemplarQuery {
  tenant: string;
  taskClass: string;
  /** The request's classification: exemplars come from it or below, never above. */
  classification: Classification;
  /** The request's work, as the model is given it. */
  text: string;
  maxCount: number;
  /** Estimated prompt tokens the exemplars may add. */
  maxTokens: number;
}

export interface ExemplarSelection {
  /** Least similar first: the closest example ends up next to the request. */
  chosen: ExemplarText[];
  /** Estimated prompt tokens they add. */
  tokens: number;
  /** Rated examples considered. */
  candidates: number;
}

export interface ExemplarSelectorOptions {
  /** Feedback score from which an execution is an exemplar. */
  minScore: number;
  /** Most recently rated examples compared with each request. */
  candidates: number;
}

/**
 * Picks the rated examples most like the request, within a count and a token budget. The rules that keep exemplars
 * inside the tenant and its classification, and out of erased content, are the source's (RatedExamples); this
 * only ranks what it returns.
 */
export class ExemplarSelector {
  constructor(
    private readonly source: RatedExamples,
    private readonly options: ExemplarSelectorOptions,
    private readonly similarity = new LexicalSimilarity(),
  ) {}

  async select(query: ExemplarQuery): Promise<ExemplarSelection> {
    if (query.maxCount <= 0 || query.maxTokens <= 0) return { chosen: [], tokens: 0, candidates: 0 };
    const level = classificationLevel(query.classification);
    const found = await this.source.find({
      tenant: query.tenant,
      taskClass: query.taskClass,
      classifications: CLASSIFICATIONS.filter((c) => classificationLevel(c) <= level),
      minScore: this.options.minScore,
      limit: this.options.candidates,
    });
    const texts = found.map(exemplarText).filter((text): text is ExemplarText => text !== null);
    const scores = this.similarity.scores(query.text, texts.map((t) => ({ id: t.executionId, text: t.question })));
    const ranked = texts.map((text, i) => ({ text, score: scores[i]! })).sort((a, b) => b.score - a.score);
    const chosen: ExemplarText[] = [];
    let tokens = 0;
    for (const { text } of ranked) {
      if (chosen.length >= query.maxCount) break;
      const cost = exemplarTokens(text);
      // A long example is skipped for shorter, less similar ones rather than ending the selection.
      if (tokens + cost > query.maxTokens) continue;
      chosen.push(text);
      tokens += cost;
    }
    return { chosen: chosen.reverse(), tokens, candidates: found.length };
  }
}

/** Estimated tokens an exemplar adds: its text and a few for the turn markers around it. */
export function exemplarTokens(text: ExemplarText): number {
  return estimateTokens(text.question.length + text.answer.length, 0) + 8;
}
