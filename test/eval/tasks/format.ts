import { Draw, fewShotPrompt, itemId, quoted, splitOfSeed, type SplitList } from "./common.js";
import type { CheckResult, EvalItem, TaskSet } from "./types.js";

/** What the answer's form must be; the content is not judged (any fruit will do, so long as the form holds). */
type Constraint =
  | { rule: "single_word" }
  | { rule: "all_capitals" }
  | { rule: "comma_separated_words"; count: number }
  | { rule: "ends_with_done" }
  | { rule: "bullet_list"; count: number }
  | { rule: "exact_word_count"; count: number };

/** `[singular, plural]`; every member that comes to mind is one word, so comma-separated single words can hold. */
const CATEGORIES: SplitList<readonly [string, string]> = {
  tune: [
    ["fruit", "fruits"], ["colour", "colours"], ["animal", "animals"], ["vegetable", "vegetables"], ["flower", "flowers"],
    ["bird", "birds"], ["drink", "drinks"], ["tree", "trees"], ["insect", "insects"], ["metal", "metals"],
  ],
  holdout: [["spice", "spices"], ["gemstone", "gemstones"], ["dessert", "desserts"], ["herb", "herbs"]],
};

/** Held-out categories, by their singular (which the plural contains). */
export const HELD_OUT: readonly string[] = CATEGORIES.holdout.map(([singular]) => singular);

const NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six"];

/** A word of letters, with inner hyphens or apostrophes allowed ("blue-green", "o'clock"). */
const WORD = /^\p{L}+(?:['-]\p{L}+)*$/u;
const withoutFinalStop = (text: string) => text.trim().replace(/[.!]$/, "").trim();
/** Whitespace-separated tokens that hold a letter or digit: "Red, bright — warm." has three. */
const wordsOf = (text: string) => text.split(/\s+/).filter((token) => /[\p{L}\p{N}]/u.test(token));
/** The same word or item over and over ("metal, metal, metal") fills a count without answering: it does not pass. */
const allDistinct = (items: readonly string[]) => new Set(items.map((item) => item.toLowerCase())).size === items.length;

/** Constraints in order of how much they ask, from one word to an exact count; item i takes constraint i mod 6. */
const TIERS: ReadonlyArray<(draw: Draw) => Constraint> = [
  () => ({ rule: "single_word" }),
  () => ({ rule: "all_capitals" }),
  () => ({ rule: "comma_separated_words", count: 3 }),
  () => ({ rule: "ends_with_done" }),
  (draw) => ({ rule: "bullet_list", count: draw.int(2, 4) }),
  (draw) => ({ rule: "exact_word_count", count: draw.int(3, 6) }),
];

function instruction(constraint: Constraint, [singular, plural]: readonly [string, string]): string {
  switch (constraint.rule) {
    case "single_word":
      return `Name one ${singular}. Reply with a single word.`;
    case "all_capitals":
      return `Name two ${plural} and write your whole answer in capital letters.`;
    case "comma_separated_words":
      return `Name ${NUMBER_WORDS[constraint.count]} ${plural}. Answer with exactly ${NUMBER_WORDS[constraint.count]} words separated by commas and nothing else.`;
    case "ends_with_done":
      return `Write one sentence about ${plural}, then end your answer with the word DONE.`;
    case "bullet_list":
      return `List ${constraint.count} ${plural}, each on its own line starting with "- ", and write nothing else.`;
    case "exact_word_count":
      return `Describe ${plural} in exactly ${NUMBER_WORDS[constraint.count]} words.`;
  }
}

/** Whether the answer has the form; a string says what is wrong. */
function violation(answer: string, constraint: Constraint): string | undefined {
  switch (constraint.rule) {
    case "single_word":
      return WORD.test(withoutFinalStop(answer)) ? undefined : "not a single word";
    case "all_capitals": {
      const letters = answer.match(/\p{L}/gu) ?? [];
      if (letters.length < 2) return "fewer than two letters";
      return /\p{Ll}/u.test(answer) ? "has lower-case letters" : undefined;
    }
    case "comma_separated_words": {
      const parts = withoutFinalStop(answer).split(",").map((part) => part.trim());
      if (parts.length !== constraint.count) return `${parts.length} comma-separated parts, not ${constraint.count}`;
      if (!parts.every((part) => WORD.test(part))) return "a part is not a single word";
      return allDistinct(parts) ? undefined : "a word is repeated";
    }
    case "ends_with_done": {
      const words = wordsOf(withoutFinalStop(answer));
      if (words.at(-1) !== "DONE") return "does not end with DONE";
      return words.length > 1 ? undefined : "nothing before DONE";
    }
    case "bullet_list": {
      const lines = answer.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== "");
      if (lines.length !== constraint.count) return `${lines.length} lines, not ${constraint.count}`;
      if (!lines.every((line) => /^- \S/.test(line))) return 'a line does not start with "- "';
      return allDistinct(lines) ? undefined : "an item is repeated";
    }
    case "exact_word_count": {
      // A description is one line of prose: a list of words, or one word repeated, only counts.
      if (answer.trim().includes("\n")) return "more than one line";
      const words = wordsOf(answer);
      if (words.length !== constraint.count) return `${words.length} words, not ${constraint.count}`;
      return new Set(words.map((word) => word.toLowerCase().replace(/\W/g, ""))).size > 1 ? undefined : "one word repeated";
    }
  }
}

function checkFormat(answer: string, constraint: Constraint): CheckResult {
  const problem = violation(answer, constraint);
  const rule = "count" in constraint ? `${constraint.rule} (${constraint.count})` : constraint.rule;
  if (problem === undefined) return { correct: true, detail: `${rule} holds` };
  return { correct: false, detail: `${rule}: ${problem} in ${quoted(answer)}` };
}

/**
 * Written for the prompt only: seasons, days and months are in neither category list. Gemma copies the form of the
 * examples more than it reads the instruction (a list example made it answer nearly everything as a list), so the
 * examples show three different forms.
 */
const FEW_SHOT = [
  'Instruction: List 2 seasons, each on its own line starting with "- ", and write nothing else.\nAnswer:\n- summer\n- winter',
  "Instruction: Name a day of the week and write your whole answer in capital letters.\nAnswer: FRIDAY",
  "Instruction: Name one month. Reply with a single word.\nAnswer: June",
];

function item(draw: Draw, seed: number, index: number): EvalItem {
  const split = splitOfSeed(seed);
  const constraint = TIERS[index % TIERS.length]!(draw);
  const text = instruction(constraint, draw.pick(CATEGORIES[split]));
  return {
    id: itemId("format", seed, index),
    kind: "format",
    taskType: "chat",
    seed,
    split,
    messages: [{ role: "user", content: text }],
    // A blank line ends the answer; a list answer starts on the line after "Answer:", so "\n" alone cannot be a stop.
    // "Instruction:" without a newline: Gemma has been seen to write "<start_of_image>Instruction: …" straight on.
    completion: { prompt: fewShotPrompt("", FEW_SHOT, `Instruction: ${text}\nAnswer:`), stop: ["\n\n", "Instruction:"] },
    maxTokens: 48,
    expected: constraint,
    check: (answer) => checkFormat(answer, constraint),
  };
}

export const formatTasks: TaskSet = {
  kind: "format",
  description: "Instructions with a form a checker can verify exactly: one word, capitals, comma-separated words, a final DONE, a bullet list, an exact word count.",
  generate(seed, count) {
    const draw = new Draw("format", seed);
    return Array.from({ length: count }, (_, index) => item(draw, seed, index));
  },
};
