import { comparableWords, quoted } from "./common.js";
import type { CheckResult } from "./types.js";

/** Each label with the words that name it in an answer ("sport" names "sports"). */
export type LabelForms = Readonly<Record<string, readonly string[]>>;

/**
 * The label check shared by the classification kinds: the answer may be a word or a sentence, and it is correct when
 * exactly one label is named in it (by any of its forms, as a whole word, case and accents ignored) and that label
 * is the expected one. An answer naming two labels ("positive, not negative") hedges, so it is wrong.
 */
export function checkLabel(answer: string, expected: string, forms: LabelForms): CheckResult {
  const words = new Set(comparableWords(answer));
  const named = Object.keys(forms).filter((label) => forms[label]!.some((form) => words.has(form)));
  if (named.length === 1 && named[0] === expected) return { correct: true, detail: `expected "${expected}", got it` };
  if (named.length === 0) return { correct: false, detail: `expected "${expected}", got no label in ${quoted(answer)}` };
  if (named.length > 1) {
    return { correct: false, detail: `expected "${expected}", got several labels (${named.join(", ")}) in ${quoted(answer)}` };
  }
  return { correct: false, detail: `expected "${expected}", got "${named[0]}"` };
}
