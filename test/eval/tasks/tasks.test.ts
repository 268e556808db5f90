import { describe, expect, it } from "vitest";
import { compileJsonSchemaToGbnf } from "../../../src/structured/json-schema-grammar.js";
import { checkSchemaDocument } from "../../../src/structured/validator.js";
import {
  DEFAULT_HOLDOUT_SEEDS,
  DEFAULT_TUNE_SEEDS,
  generateEvalItems,
  HELD_OUT_MARKERS,
  splitOfSeed,
  TASK_SETS,
  type EvalItem,
  type EvalKind,
} from "./index.js";

const PER_SEED = 60;
const ALL_SEEDS = [...DEFAULT_TUNE_SEEDS, ...DEFAULT_HOLDOUT_SEEDS];
const items = generateEvalItems({ seeds: ALL_SEEDS, perKind: PER_SEED });
const itemsOf = (kind: EvalKind) => items.filter((item) => item.kind === kind);
/** An item without its check function, as the runner's JSON records it. */
const plain = (item: EvalItem) => JSON.parse(JSON.stringify(item)) as unknown;
const userText = (item: EvalItem) => item.messages.map((message) => message.content).join("\n");

describe("generation", () => {
  it("gives the same items for the same seed, and a longer run extends a shorter one", () => {
    for (const set of TASK_SETS) {
      const first = set.generate(7, 30).map(plain);
      expect(set.generate(7, 30).map(plain)).toEqual(first);
      expect(set.generate(7, 12).map(plain)).toEqual(first.slice(0, 12));
    }
  });

  it("gives different items for different seeds", () => {
    for (const set of TASK_SETS) {
      const texts = (seed: number) => set.generate(seed, 12).map(userText);
      expect(texts(1)).not.toEqual(texts(2));
      expect(texts(101)).not.toEqual(texts(102));
    }
  });

  it("names every item uniquely, as kind-s<seed>-<index>", () => {
    expect(new Set(items.map((item) => item.id)).size).toBe(items.length);
    for (const item of items) expect(item.id).toMatch(new RegExp(`^${item.kind}-s${item.seed}-\\d{3}$`));
  });

  it("generates kinds in TASK_SETS order, seed by seed, and refuses unknown kinds", () => {
    const chosen = generateEvalItems({ seeds: [1, 101], perKind: 2, kinds: ["capital", "sentiment"] });
    expect(chosen.map((item) => item.id)).toEqual([
      "sentiment-s1-000", "sentiment-s1-001", "sentiment-s101-000", "sentiment-s101-001",
      "capital-s1-000", "capital-s1-001", "capital-s101-000", "capital-s101-001",
    ]);
    expect(() => generateEvalItems({ seeds: [1], perKind: 1, kinds: ["poetry" as EvalKind] })).toThrow(/poetry/);
  });

  it("gives each kind its task type", () => {
    const expected: Record<EvalKind, string> = {
      sentiment: "classification", topic: "classification", extraction: "extraction",
      arithmetic: "chat", capital: "chat", format: "chat",
    };
    for (const item of items) expect(item.taskType).toBe(expected[item.kind]);
  });

  it("balances the labels of the classification kinds", () => {
    for (const kind of ["sentiment", "topic"] as const) {
      const counts = new Map<unknown, number>();
      for (const item of itemsOf(kind)) counts.set(item.expected, (counts.get(item.expected) ?? 0) + 1);
      expect(new Set(counts.values()).size).toBe(1);
    }
  });
});

describe("prompts", () => {
  it("give both forms, short, with a completion prompt that ends where the answer starts", () => {
    for (const item of items) {
      expect(item.messages.at(-1)?.role).toBe("user");
      expect(item.completion.prompt).toMatch(/:$/);
      expect(item.completion.stop.length).toBeGreaterThan(0);
      expect(item.maxTokens).toBeGreaterThan(0);
      expect(item.maxTokens).toBeLessThanOrEqual(64);
      // About four characters a token: both forms stay well under 150 prompt tokens.
      expect(userText(item).length).toBeLessThan(400);
      expect(item.completion.prompt.length).toBeLessThan(600);
    }
  });

  it("give embedding models the classified text and a description for every label, the expected one among them", () => {
    for (const kind of ["sentiment", "topic"] as const) {
      for (const item of itemsOf(kind)) {
        expect(item.nearest).toBeDefined();
        expect(userText(item)).toContain(item.nearest!.text);
        expect(Object.keys(item.nearest!.labels)).toContain(item.expected);
        // The label the nearest description names must pass the item's own check, and another label must not.
        expect(item.check(String(item.expected)).correct).toBe(true);
        const other = Object.keys(item.nearest!.labels).find((label) => label !== item.expected)!;
        expect(item.check(other).correct).toBe(false);
      }
    }
  });

  it("never ask a few-shot example as the question", () => {
    for (const item of items) {
      const blocks = item.completion.prompt.split("\n\n");
      const question = blocks.at(-1)!.split("\n")[0];
      expect(blocks.slice(0, -1).map((block) => block.split("\n")[0])).not.toContain(question);
    }
  });

  it("carry a schema exactly for extraction, and every schema compiles to a grammar the gateway accepts", () => {
    for (const item of items) {
      expect(item.schema !== undefined).toBe(item.kind === "extraction");
      if (item.schema === undefined) continue;
      expect(() => compileJsonSchemaToGbnf(item.schema!)).not.toThrow();
      expect(checkSchemaDocument(item.schema)).toEqual([]);
    }
  });
});

describe("split", () => {
  it("follows the seed: below 100 tune, from 100 holdout", () => {
    for (const item of items) expect(item.split).toBe(item.seed >= 100 ? "holdout" : "tune");
    expect(DEFAULT_TUNE_SEEDS.every((seed) => splitOfSeed(seed) === "tune")).toBe(true);
    expect(DEFAULT_HOLDOUT_SEEDS.every((seed) => splitOfSeed(seed) === "holdout")).toBe(true);
    expect(() => splitOfSeed(0)).toThrow(RangeError);
    expect(() => splitOfSeed(1.5)).toThrow(RangeError);
  });

  it("keeps held-out vocabulary out of every tune item, and uses all of it in holdout items", () => {
    for (const set of TASK_SETS) {
      const markers = HELD_OUT_MARKERS[set.kind];
      expect(markers.length).toBeGreaterThan(0);
      const texts = (split: EvalItem["split"]) =>
        itemsOf(set.kind).filter((item) => item.split === split).map((item) => `${userText(item)}\n${item.completion.prompt}`);
      const tune = texts("tune");
      const holdout = texts("holdout");
      for (const marker of markers) {
        expect(tune.filter((text) => text.includes(marker)), `${set.kind}: "${marker}" in a tune item`).toEqual([]);
        expect(holdout.some((text) => text.includes(marker)), `${set.kind}: "${marker}" unused`).toBe(true);
      }
    }
  });

  it("never asks a holdout question that a tune item asks", () => {
    for (const set of TASK_SETS) {
      const tune = new Set(itemsOf(set.kind).filter((item) => item.split === "tune").map(userText));
      const shared = itemsOf(set.kind).filter((item) => item.split === "holdout" && tune.has(userText(item)));
      expect(shared.map((item) => item.id)).toEqual([]);
    }
  });
});

/** Answers a correct model could give, terse and chatty, and answers that must fail: built from `expected`. */
interface Answers {
  right: string[];
  wrong: string[];
}

const OTHER_LABEL: Record<string, string> = {
  positive: "negative", negative: "positive",
  sports: "politics", business: "science", science: "health", health: "sports", politics: "business",
};

function labelAnswers(item: EvalItem): Answers {
  const label = item.expected as string;
  const other = OTHER_LABEL[label]!;
  return {
    right: [label, `${label[0]!.toUpperCase()}${label.slice(1)}.`, `The ${item.kind} of this text is ${label}.`, `**${label.toUpperCase()}**`],
    wrong: [
      other,
      `The ${item.kind} is ${other}.`,
      `${label} or ${other}`,
      "",
      "I cannot tell.",
      ...(item.kind === "sentiment" ? [`neutral, not really ${label}`] : []),
    ],
  };
}

function extractionAnswers(item: EvalItem): Answers {
  const fields = item.expected as Record<string, string | number>;
  const [firstKey] = Object.keys(fields);
  const stringKey = Object.keys(fields).find((key) => typeof fields[key] === "string")!;
  const numberKey = Object.keys(fields).find((key) => typeof fields[key] === "number")!;
  const compact = JSON.stringify(fields);
  const shouted = { ...fields, [stringKey]: ` ${String(fields[stringKey]).toUpperCase()} ` };
  const { [firstKey!]: _dropped, ...missing } = fields;
  return {
    right: [compact, JSON.stringify(fields, null, 2), "```json\n" + compact + "\n```", JSON.stringify(shouted)],
    wrong: [
      compact.slice(0, -1),
      `Here is the JSON: ${compact}`,
      JSON.stringify(missing),
      JSON.stringify({ ...fields, extra: 1 }),
      JSON.stringify({ ...fields, [numberKey]: String(fields[numberKey]) }),
      JSON.stringify({ ...fields, [numberKey]: (fields[numberKey] as number) + 1 }),
      JSON.stringify({ ...fields, [stringKey]: "Someone Else" }),
    ],
  };
}

function arithmeticAnswers(item: EvalItem): Answers {
  const value = item.expected as number;
  return {
    right: [
      String(value),
      `${value}.`,
      `The answer is ${value}.`,
      `3 + 4 = ${value}`,
      `We work it out step by step: 2 × 5 = 10, 10 + 1 = ${value}. So the answer is ${value}.`,
    ],
    // The question itself: an echo gives an operand, never the answer.
    wrong: [String(value + 1), `The answer is ${value - 1}.`, `x = ${value + 10}, not ${value}`, "", "twelve", userText(item)],
  };
}

function capitalAnswers(item: EvalItem): Answers {
  const capital = item.expected as string;
  const other = capital === "Paris" ? "Rome" : "Paris";
  const plainLetters = capital.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase();
  return {
    right: [capital, ` ${plainLetters}`, `The capital is ${capital}.`, `It is ${capital}, not Sydney.`],
    wrong: [other, `The capital is ${other}.`, `${capital} or ${other}`, "I do not know.", ""],
  };
}

function formatAnswers(item: EvalItem): Answers {
  const { rule, count = 0 } = item.expected as { rule: string; count?: number };
  const words = (n: number) => ["bright", "warm", "sweet", "small", "green", "round", "old"].slice(0, n);
  switch (rule) {
    case "single_word":
      return { right: ["Sparrow", " sparrow."], wrong: ["The sparrow", "\n- owl", "sparrow, robin", ""] };
    case "all_capitals":
      return { right: ["ROSE AND TULIP", "MY ANSWER: ROSE, TULIP!"], wrong: ["Rose and tulip", "ROSE and TULIP", "123", ""] };
    case "comma_separated_words":
      return {
        right: [words(count).join(", "), `${words(count).join(",")}.`],
        wrong: [
          words(count - 1).join(", "),
          `They are: ${words(count).join(", ")}`,
          words(count).join("\n"),
          Array(count).fill("metal").join(", "),
        ],
      };
    case "ends_with_done":
      return {
        right: ["Trees give shade. DONE", "Trees give us shade in summer DONE."],
        wrong: ["DONE", "Trees give shade.", "Trees give shade. done", "DONE. Trees give shade."],
      };
    case "bullet_list": {
      const lines = words(count).map((word) => `- ${word}`);
      return {
        right: [lines.join("\n"), `\n${lines.join("\n")}\n`],
        wrong: [
          [...lines, "- extra"].join("\n"),
          words(count).map((word, i) => `${i + 1}. ${word}`).join("\n"),
          `Here they are:\n${lines.join("\n")}`,
          Array(count).fill("- mint").join("\n"),
        ],
      };
    }
    case "exact_word_count":
      return {
        right: [words(count).join(" "), `${words(count).join(", ")}.`, "A tree is a plant tall".split(" ").slice(0, count).join(" ")],
        wrong: [words(count + 1).join(" "), words(count - 1).join(" "), Array(count).fill("metal").join(", "), words(count).map((w) => `- ${w}`).join("\n")],
      };
    default:
      throw new Error(`no answers for rule ${rule}`);
  }
}

const ANSWERS: Record<EvalKind, (item: EvalItem) => Answers> = {
  sentiment: labelAnswers,
  topic: labelAnswers,
  extraction: extractionAnswers,
  arithmetic: arithmeticAnswers,
  capital: capitalAnswers,
  format: formatAnswers,
};

describe("checks", () => {
  it("accept every item's expected answer, terse or chatty, and refuse plausible wrong ones", () => {
    for (const item of items) {
      const { right, wrong } = ANSWERS[item.kind](item);
      for (const answer of right) expect(item.check(answer).correct, `${item.id} should accept ${JSON.stringify(answer)}`).toBe(true);
      for (const answer of wrong) {
        const verdict = item.check(answer);
        expect(verdict.correct, `${item.id} should refuse ${JSON.stringify(answer)}`).toBe(false);
        expect(verdict.detail.length).toBeGreaterThan(0);
      }
    }
  });

  it("say what was compared", () => {
    const [sentiment] = generateEvalItems({ seeds: [1], perKind: 1, kinds: ["sentiment"] });
    expect(sentiment!.check("positive").detail).toBe('expected "positive", got it');
    expect(sentiment!.check("negative").detail).toBe('expected "positive", got "negative"');
    expect(sentiment!.check("positive or negative").detail).toMatch(/several labels \(positive, negative\)/);

    const [person] = generateEvalItems({ seeds: [1], perKind: 1, kinds: ["extraction"] });
    const fields = person!.expected as { name: string; age: number; city: string };
    expect(person!.check(JSON.stringify({ ...fields, age: fields.age + 1, city: "Atlantis" })).detail).toBe(
      `wrong fields: age (expected ${fields.age}, got ${fields.age + 1}), city (expected "${fields.city}", got "Atlantis")`,
    );
    expect(person!.check(JSON.stringify({ name: fields.name, city: fields.city })).detail).toMatch(/^not schema-valid: .*age/);
    expect(person!.check("{").detail).toMatch(/^not JSON/);

    const [sum] = generateEvalItems({ seeds: [1], perKind: 1, kinds: ["arithmetic"] });
    const value = sum!.expected as number;
    expect(sum!.check(`2 + 2 = ${value}`).correct).toBe(true);
    expect(sum!.check(`${value} = 2 + 2`).correct).toBe(false);
  });

  it("read capitals with accents, case and several words, and catch a second capital", () => {
    const capitals = itemsOf("capital");
    const bogota = capitals.find((item) => item.expected === "Bogotá")!;
    expect(bogota.check("BOGOTA").correct).toBe(true);
    const kyiv = capitals.find((item) => item.expected === "Kyiv")!;
    expect(kyiv.check("It is Kiev.").correct).toBe(true);
    const buenosAires = capitals.find((item) => item.expected === "Buenos Aires")!;
    expect(buenosAires.check("Buenos").correct).toBe(false);
    expect(buenosAires.check("Buenos Aires, near Montevideo").detail).toBe('expected "Buenos Aires", got "Montevideo" as well');
  });
});
