import { Draw, fewShotPrompt, fill, heldOutMarkers, itemId, quoted, splitOfSeed, stableHash, type Split, type SplitList } from "./common.js";
import type { CheckResult, EvalItem, TaskSet } from "./types.js";

interface Problem {
  question: string;
  answer: number;
  /** The numbers in the question: no answer may equal one, so echoing the question is never marked correct. */
  operands: readonly number[];
}

/**
 * Bare sums, differences and products are held out by their own text: a problem whose FNV-1a hash is divisible by 4
 * appears only in holdout items, any other only in tune items. Word problems are held out by template.
 */
function splitOfProblem(question: string): Split {
  return stableHash(question) % 4 === 0 ? "holdout" : "tune";
}

/** One-step word problems: `{a}` and `{b}` are the operands, `solve` gives the answer. */
interface WordProblem {
  template: string;
  solve(a: number, b: number): number;
  a: readonly [number, number];
  b: readonly [number, number];
}

const WORD_PROBLEMS: SplitList<WordProblem> = {
  tune: [
    { template: "Lena has {a} stickers and buys {b} more. How many stickers does she have now?", solve: (a, b) => a + b, a: [12, 40], b: [3, 9] },
    { template: "A box holds {a} eggs. How many eggs are in {b} boxes?", solve: (a, b) => a * b, a: [6, 12], b: [3, 7] },
    { template: "A bus had {a} passengers and {b} got off. How many passengers are left?", solve: (a, b) => a - b, a: [20, 45], b: [3, 9] },
    { template: "Tickets cost {a} dollars each. How much do {b} tickets cost?", solve: (a, b) => a * b, a: [4, 15], b: [3, 6] },
  ],
  holdout: [
    { template: "A shelf has {a} books and {b} are taken away. How many books remain?", solve: (a, b) => a - b, a: [25, 60], b: [4, 9] },
    { template: "Each pack has {a} pencils. How many pencils are in {b} packs?", solve: (a, b) => a * b, a: [5, 12], b: [3, 8] },
  ],
};

/** Held-out word problems; held-out bare problems are the ones `splitOfProblem` picks. */
export const HELD_OUT: readonly string[] = heldOutMarkers({ tune: [], holdout: WORD_PROBLEMS.holdout.map((problem) => problem.template) });

/** Tiers: one-digit sums, two-digit sums and differences, products, word problems. */
const TIERS: ReadonlyArray<(draw: Draw, split: Split) => Problem> = [
  (draw, split) => bare(draw, split, () => {
    const a = draw.int(2, 9);
    const b = draw.int(2, 9);
    return { question: `What is ${a} + ${b}?`, answer: a + b, operands: [a, b] };
  }),
  (draw, split) => bare(draw, split, () => {
    const a = draw.int(21, 89);
    const b = draw.int(11, a - 2);
    return draw.int(0, 1) === 0
      ? { question: `What is ${a} + ${b}?`, answer: a + b, operands: [a, b] }
      : { question: `What is ${a} - ${b}?`, answer: a - b, operands: [a, b] };
  }),
  (draw, split) => bare(draw, split, () => {
    const a = draw.int(3, 19);
    const b = draw.int(3, 9);
    return { question: `What is ${a} × ${b}?`, answer: a * b, operands: [a, b] };
  }),
  (draw, split) => {
    const problem = draw.pick(WORD_PROBLEMS[split]);
    const a = draw.int(...problem.a);
    const b = draw.int(...problem.b);
    return { question: fill(problem.template, { a, b }), answer: problem.solve(a, b), operands: [a, b] };
  },
];

/**
 * Written for the prompt only: `bare` never draws the bare question among them, and no template makes the other.
 * The answers write the operation out ("10 - 2 = 8"): with bare numbers as answers Gemma answered "10" to nearly
 * everything, copying the examples rather than computing.
 */
const FEW_SHOT_EXAMPLES = [
  { question: "What is 4 + 3?", worked: "4 + 3 = 7" },
  { question: "Sam has 10 pens and gives away 2. How many pens does Sam have now?", worked: "10 - 2 = 8" },
];
const FEW_SHOT = FEW_SHOT_EXAMPLES.map((example) => `Question: ${example.question}\nAnswer: ${example.worked}`);

/** Draws until the problem belongs to the split, is not a prompt example and its answer differs from its operands. */
function bare(draw: Draw, split: Split, next: () => Problem): Problem {
  for (;;) {
    const problem = next();
    const usable =
      splitOfProblem(problem.question) === split &&
      !FEW_SHOT_EXAMPLES.some((example) => example.question === problem.question) &&
      !problem.operands.includes(problem.answer);
    if (usable) return problem;
  }
}

/** Plain numbers, thousands separated by commas or not: "12", "1,250", "3.5". */
const NUMBER = /\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?/g;

/**
 * The answer's number: the first number after the last "=" when there is one ("7 + 5 = 12" → 12), else the last
 * number in the answer ("The answer is 12." → 12). An echo of the question ("7 + 5") gives an operand, which is
 * never the answer; words for numbers ("twelve") are not read.
 */
function answerNumber(answer: string): number | undefined {
  const equals = answer.lastIndexOf("=");
  const numbers = (equals >= 0 ? answer.slice(equals + 1) : answer).match(NUMBER) ?? [];
  const chosen = equals >= 0 ? numbers[0] : numbers.at(-1);
  return chosen === undefined ? undefined : Number(chosen.replace(/,/g, ""));
}

function checkNumber(answer: string, expected: number): CheckResult {
  const got = answerNumber(answer);
  if (got === expected) return { correct: true, detail: `expected ${expected}, got it` };
  return { correct: false, detail: got === undefined ? `expected ${expected}, got no number in ${quoted(answer)}` : `expected ${expected}, got ${got}` };
}

function item(draw: Draw, seed: number, index: number): EvalItem {
  const split = splitOfSeed(seed);
  const problem = TIERS[index % TIERS.length]!(draw, split);
  return {
    id: itemId("arithmetic", seed, index),
    kind: "arithmetic",
    taskType: "chat",
    seed,
    split,
    messages: [{ role: "user", content: `${problem.question} Answer with just the number.` }],
    completion: { prompt: fewShotPrompt("", FEW_SHOT, `Question: ${problem.question}\nAnswer:`), stop: ["\n"] },
    // Room for "To find the product we multiply … = 78": SmolLM2 often works it out in words despite the instruction.
    maxTokens: 32,
    expected: problem.answer,
    check: (answer) => checkNumber(answer, problem.answer),
  };
}

export const arithmeticTasks: TaskSet = {
  kind: "arithmetic",
  description: "One-digit sums, two-digit sums and differences, products up to 19 × 9, and one-step word problems.",
  generate(seed, count) {
    const draw = new Draw("arithmetic", seed);
    return Array.from({ length: count }, (_, index) => item(draw, seed, index));
  },
};
