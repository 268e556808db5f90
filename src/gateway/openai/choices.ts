import type { GenerationOutcome } from "../../pipeline/generate.js";
import { invalidRequest } from "../errors.js";

/** How many answers a request asks for (`n`, bounded by its schema: MAX_CHOICES in requests.ts); several are answered whole, not streamed. */
export function choiceCount(body: { n?: number | null; stream?: boolean | null }): number {
  const n = body.n ?? 1;
  if (n > 1 && body.stream) throw invalidRequest("n_with_stream_unsupported", "n > 1 is answered whole, not streamed", "n");
  return n;
}

/**
 * `n` answers to one request, each a generation and an execution of its own. The first chooses the model (by
 * bidding, where the caller named none); the others then run on that model side by side, so one response names
 * one model.
 */
export async function runChoices(n: number, run: (index: number, model: string | undefined) => Promise<GenerationOutcome>): Promise<GenerationOutcome[]> {
  const first = await run(0, undefined);
  const others = await Promise.all(Array.from({ length: n - 1 }, (_, i) => run(i + 1, first.model.id)));
  return [first, ...others];
}

/** What the answers spent together: every choice read the prompt and wrote its own answer. */
export function choicesUsage(outcomes: readonly GenerationOutcome[]): { promptTokens: number; completionTokens: number } {
  return {
    promptTokens: outcomes.reduce((sum, outcome) => sum + outcome.promptTokens, 0),
    completionTokens: outcomes.reduce((sum, outcome) => sum + outcome.completionTokens, 0),
  };
}
