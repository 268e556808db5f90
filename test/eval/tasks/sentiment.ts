import { capitalise, Draw, fewShotPrompt, fill, heldOutMarkers, itemId, splitOfSeed, type SplitList } from "./common.js";
import { checkLabel, type LabelForms } from "./labels.js";
import type { EvalItem, TaskSet } from "./types.js";

type Sentiment = "positive" | "negative";
const LABELS: readonly Sentiment[] = ["positive", "negative"];
/** "neutral" is never expected, but an answer that names it hedges, so it counts as a label named. */
const FORMS: LabelForms = { positive: ["positive"], negative: ["negative"], neutral: ["neutral", "mixed"] };

/** Things reviewed, all singular; every phrase and template below reads sensibly with any of them. */
const SUBJECTS: SplitList<string> = {
  tune: [
    "the blender", "the hotel room", "the phone case", "the pizza", "the taxi ride", "the headset",
    "the tent", "the coffee machine", "the yoga class", "the rental car", "the backpack", "the museum tour",
  ],
  holdout: ["the vacuum cleaner", "the sushi", "the desk chair", "the train journey", "the language course"],
};

const PHRASES: Record<Sentiment, SplitList<string>> = {
  positive: {
    tune: ["was excellent", "was worth every penny", "exceeded my expectations", "was a real pleasure", "was fantastic", "made me very happy"],
    holdout: ["was superb", "was a delight", "impressed my whole family"],
  },
  negative: {
    tune: ["was terrible", "was a waste of money", "was a huge disappointment", "made me angry", "was awful", "ruined my day"],
    holdout: ["was dreadful", "was a total letdown", "left me furious"],
  },
};

/**
 * Three tiers of difficulty. Direct: the opinion phrase says it all. Negated: no opinion phrase, the verdict hangs on
 * a "not" or "no". Contrast: the first clause carries the opposite polarity's words, the verdict comes after "but".
 * `{phrase}` is an opinion phrase of the item's label.
 */
const TEMPLATES: ReadonlyArray<Record<Sentiment, SplitList<string>>> = [
  {
    positive: { tune: ["{Subject} {phrase}. I would recommend it to anyone.", "{Subject} {phrase}, five stars."], holdout: ["Honestly, {subject} {phrase}."] },
    negative: { tune: ["{Subject} {phrase}. Avoid it.", "{Subject} {phrase}, one star."], holdout: ["Honestly, {subject} {phrase}."] },
  },
  {
    positive: {
      tune: ["I have no complaints at all about {subject}.", "{Subject} was not cheap, but it was worth it.", "{Subject} was not bad at all, I would happily pay for it again."],
      holdout: ["I cannot find a single thing wrong with {subject}."],
    },
    negative: {
      tune: ["I would not recommend {subject} to anyone.", "{Subject} was not worth the money.", "{Subject} did not live up to the hype."],
      holdout: ["Nothing about {subject} was good."],
    },
  },
  {
    positive: {
      tune: ["The delivery was late and the box was dented, but {subject} {phrase}.", "I was worried after the bad reviews, yet {subject} {phrase}."],
      holdout: ["Parking was a nightmare; still, {subject} {phrase}."],
    },
    negative: {
      tune: ["The staff were friendly and the price was fair, but {subject} {phrase}.", "It looked lovely in the photos, but {subject} {phrase}."],
      holdout: ["Great location and a nice view, however {subject} {phrase}."],
    },
  },
];

/** Held-out subjects, phrases and templates (their literal text). */
export const HELD_OUT: readonly string[] = heldOutMarkers(
  SUBJECTS,
  ...Object.values(PHRASES),
  ...TEMPLATES.flatMap((tier) => Object.values(tier)),
);

/** What an embedding model compares a review with; worded apart from every phrase above. */
const DESCRIPTIONS: Readonly<Record<Sentiment, string>> = {
  positive: "A positive review: the customer was happy with it and recommends it.",
  negative: "A negative review: the customer was unhappy with it and regrets it.",
};

/** Written for the prompt only: no subject or phrase of the lists above, so never a test item. */
const FEW_SHOT = [
  "Review: The soup arrived hot and tasted wonderful.\nSentiment: positive",
  "Review: The charger stopped working after one day.\nSentiment: negative",
];

function item(draw: Draw, seed: number, index: number): EvalItem {
  const split = splitOfSeed(seed);
  // Labels alternate and tiers cycle every two items, so any six consecutive items cover every label and tier.
  const label = LABELS[index % 2]!;
  const tier = TEMPLATES[Math.floor(index / 2) % TEMPLATES.length]!;
  const subject = draw.pick(SUBJECTS[split]);
  const text = fill(draw.pick(tier[label][split]), {
    subject,
    Subject: capitalise(subject),
    phrase: draw.pick(PHRASES[label][split]),
  });
  return {
    id: itemId("sentiment", seed, index),
    kind: "sentiment",
    taskType: "classification",
    seed,
    split,
    // The review quoted inline: SmolLM2 answered "positive" to nearly every review when it came on a line of its own.
    messages: [{ role: "user", content: `Classify the sentiment of this review as positive or negative: "${text}" Answer with one word.` }],
    completion: { prompt: fewShotPrompt("", FEW_SHOT, `Review: ${text}\nSentiment:`), stop: ["\n"] },
    nearest: { text, labels: DESCRIPTIONS },
    // SmolLM2 answers in a sentence ("The sentiment of this review is negative.", 9 tokens): 8 would cut the label off.
    maxTokens: 16,
    expected: label,
    check: (answer) => checkLabel(answer, label, FORMS),
  };
}

export const sentimentTasks: TaskSet = {
  kind: "sentiment",
  description: "Product and service reviews labelled positive or negative: direct, negated, and contrast (verdict after 'but').",
  generate(seed, count) {
    const draw = new Draw("sentiment", seed);
    return Array.from({ length: count }, (_, index) => item(draw, seed, index));
  },
};
