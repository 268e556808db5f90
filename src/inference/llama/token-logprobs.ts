import type { LlamaContextSequence, LlamaModel, Token } from "node-llama-cpp";
import type { TokenLogprob } from "../interface.js";

/**
 * The log-probability of each generated token, and of the most probable alternatives at its position, scored after
 * generation by evaluating the answer again over the prompt still held in the sequence's KV cache: one batch of as
 * many tokens as the answer, without a second prefill. (node-llama-cpp's generation loops — LlamaChat,
 * LlamaCompletion — do not hand out probabilities; scoring apart keeps their chat templates, stop triggers and
 * grammars as they are.) The probabilities are the model's own softmax, as OpenAI reports them: before temperature,
 * top-p/top-k and a grammar's mask.
 *
 * `generated` are the tokens the loop released as the answer (not a stop trigger's, not the end-of-generation
 * token). If the sequence does not hold them after a prompt token, nothing can be scored and null is returned
 * rather than numbers for the wrong positions.
 */
export async function scoreTokens(model: LlamaModel, sequence: LlamaContextSequence, generated: readonly Token[], top: number): Promise<TokenLogprob[] | null> {
  if (generated.length === 0) return [];
  const start = answerStart(sequence.contextTokens, generated);
  if (start === null) return null;
  const previous = sequence.contextTokens[start - 1]!;
  await sequence.eraseContextTokenRanges([{ start: start - 1, end: sequence.nextTokenIndex }]);
  const scored = await sequence.controlledEvaluate(
    [previous, ...generated.slice(0, -1)].map((token) => [token, { generateNext: { probabilities: true } }] as const),
  );
  const preceding = [previous, ...generated];
  return generated.map((token, index) => {
    const probabilities = scored[index]?.next.probabilities;
    if (!probabilities) throw new Error(`no probabilities for token ${index} of the answer`);
    // What came before decides some tokens' text (SentencePiece drops the leading space of a text's first piece).
    const before = preceding.slice(Math.max(0, index + 1 - DETOKENIZE_CONTEXT), index + 1);
    const pieceOf = (candidate: Token) => model.detokenize([candidate], true, before);
    const alternatives: TokenLogprob["top"] = [];
    // The map is ordered from the most probable token down.
    for (const [candidate, probability] of probabilities) {
      if (alternatives.length >= top) break;
      alternatives.push({ token: pieceOf(candidate), logprob: logOf(probability) });
    }
    return { token: pieceOf(token), logprob: logOf(probabilities.get(token) ?? 0), top: alternatives };
  });
}

/** Tokens before one that its text may depend on. */
const DETOKENIZE_CONTEXT = 4;

/** Tokens a stop trigger may leave in the sequence after the answer (node-llama-cpp feeds them back before it matches). */
const STOP_TRIGGER_SLACK = 32;

/**
 * Where the answer begins in the sequence: the prompt's end. The sequence holds the prompt, the answer (its last
 * token only if generation went on after it: an end token or a stop trigger followed) and perhaps a stop trigger's
 * tokens; searched from the end, the whole answer before the answer less its last token at each end position.
 */
function answerStart(context: readonly Token[], generated: readonly Token[]): number | null {
  const endsWith = (end: number, length: number) => {
    if (end - length < 1) return false;
    for (let i = 0; i < length; i++) if (context[end - length + i] !== generated[i]) return false;
    return true;
  };
  for (let end = context.length; end >= Math.max(1, context.length - STOP_TRIGGER_SLACK); end--) {
    if (endsWith(end, generated.length)) return end - generated.length;
    if (endsWith(end, generated.length - 1)) return end - generated.length + 1;
  }
  return null;
}

/** A probability of 0 (underflow in float32) is as improbable as a float can say; JSON has no -Infinity. */
function logOf(probability: number): number {
  return probability > 0 ? Math.log(probability) : -9999;
}
