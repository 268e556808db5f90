import type { TokenLogprob } from "../../inference/interface.js";
import type { GenerationOutcome } from "../../pipeline/generate.js";
import { invalidRequest } from "../errors.js";

/**
 * Token log-probabilities in OpenAI's two shapes: chat's `logprobs.content` and the legacy completion's parallel
 * lists. They describe the tokens the model generated, which are its own output (placeholders where the policy
 * redacted PII, not originals restored into the text).
 */

const utf8 = new TextEncoder();
const bytesOf = (token: string) => [...utf8.encode(token)];

/**
 * The engine's parameter for a request's logprobs, checked as OpenAI checks them: `wanted` is chat's
 * `logprobs: true` or the Responses API's `include` entry, `top` the alternatives asked for; `names` are the
 * request's own parameter names, for the errors.
 */
export function logprobsParam(wanted: boolean, top: number | null | undefined, withTools: boolean, names: { wanted: string; top: string }): number | undefined {
  if (top != null && !wanted) throw invalidRequest("top_logprobs_without_logprobs", `${names.top} needs ${names.wanted === "logprobs" ? "logprobs: true" : `${names.wanted} to name ${RESPONSES_LOGPROBS}`}`, names.top);
  if (!wanted) return undefined;
  // A call's arguments are decoded from the model's text into JSON: their tokens are no part of the answer's content.
  if (withTools) throw invalidRequest("logprobs_with_tools_unsupported", "logprobs are given for text answers: they cannot be combined with tools", names.wanted);
  return top ?? 0;
}

/** The Responses API's `include` entry that asks for them. */
export const RESPONSES_LOGPROBS = "message.output_text.logprobs";

/** Chat's `choices[].logprobs.content` and the Responses API's `output_text.logprobs`: one entry per token. */
export function contentLogprobs(logprobs: readonly TokenLogprob[]) {
  return logprobs.map((entry) => ({
    token: entry.token,
    logprob: entry.logprob,
    bytes: bytesOf(entry.token),
    top_logprobs: entry.top.map((alternative) => ({ token: alternative.token, logprob: alternative.logprob, bytes: bytesOf(alternative.token) })),
  }));
}

/** Chat's `choices[].logprobs`: null unless asked for. */
export function chatLogprobs(outcome: GenerationOutcome): { content: unknown[]; refusal: null } | null {
  return outcome.logprobs === undefined ? null : { content: contentLogprobs(outcome.logprobs), refusal: null };
}

export interface CompletionLogprobs {
  tokens: string[];
  token_logprobs: number[];
  /** The alternatives and, as OpenAI's legacy endpoint has it, the chosen token too (up to logprobs + 1 entries). */
  top_logprobs: Array<Record<string, number>>;
  /** Where each token starts in the answer's text. */
  text_offset: number[];
}

/** The legacy completion's `choices[].logprobs`: null unless asked for. */
export function completionLogprobs(logprobs: readonly TokenLogprob[] | undefined): CompletionLogprobs | null {
  if (logprobs === undefined) return null;
  let offset = 0;
  const textOffset = logprobs.map((entry) => {
    const at = offset;
    offset += entry.token.length;
    return at;
  });
  return {
    tokens: logprobs.map((entry) => entry.token),
    token_logprobs: logprobs.map((entry) => entry.logprob),
    top_logprobs: logprobs.map((entry) => {
      const alternatives: Record<string, number> = {};
      for (const alternative of [...entry.top, { token: entry.token, logprob: entry.logprob }]) alternatives[alternative.token] ??= alternative.logprob;
      return alternatives;
    }),
    text_offset: textOffset,
  };
}
