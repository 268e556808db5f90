/**
 * Generated two-model outcome tables for the routing bench, made to resemble the real tables bidding has to win on
 * (a strong and a weak model on multi-subject exam questions and on math word problems; prices ~100× apart), with
 * known ground truth. Nothing is downloaded; a seed gives the same table on every machine.
 *
 * How they resemble the real ones, and where they are only a model of them:
 * - Exam: 30 subjects of very different size, each with its own vocabulary; the strong model's accuracy per subject
 *   spread like published per-subject results of strong models (logit 0.6…3.4, i.e. 65–97 %), the weak model a
 *   per-subject logit gap of 0.3…1.5 behind (so on some subjects the two are close, on others far apart), then a
 *   per-item difficulty shared by both models (hard items are hard for both) of which only ~30 % shows in the text
 *   (negations, "except", calculations, longer stems); the rest is noise no router can see. Overall the strong model
 *   answers ~80 %, the weak one ~65 %.
 * - Math: word problems of 2–8 steps (mostly 3–5); both models lose accuracy per step, the weak one faster, and
 *   percentages, fractions and rates cost more than sums; every quantity is written in the text, so the number of
 *   steps shows in the text's numbers, sentences and length (the length rule is a fair competitor here, as on real
 *   data). Overall ~83 % strong, ~50 % weak. Plus per-item noise.
 * These parameters were fixed before any router was run on the tables and were not changed after.
 */
import { seededRng, type Rng } from "../../src/util/rng.js";

export interface GeneratedItem {
  id: string;
  kind: string;
  prompt: string;
  /** Success probabilities of [weak, strong]: the ground truth, for the "ideal" reference curve. */
  p: [number, number];
  /**
   * What the prompt's text shows of those probabilities (subject and difficulty cues; steps and their kinds), the
   * rest being noise no router can see: items with the same cues are indistinguishable by their text.
   */
  cues: string;
  /** Outcomes of [weak, strong]. */
  success: [boolean, boolean];
  inputTokens: number;
  outputTokens: [number, number];
}

export const WEAK = { id: "weak", per1k: 0.02 };
export const STRONG = { id: "strong", per1k: 2 };

// ------------------------------------------------------------------------------------------------------------- exam

const SUBJECTS: Array<[string, string]> = [
  ["anatomy", "muscle nerve artery vertebra ligament cranial femur tissue organ thorax"],
  ["astronomy", "planet orbit star galaxy telescope nebula comet eclipse redshift luminosity"],
  ["biology", "cell gene protein enzyme membrane mitochondria chromosome species mutation ribosome"],
  ["chemistry", "molecule reaction acid bond electron isotope catalyst solution oxidation molar"],
  ["computer science", "algorithm compiler recursion pointer array complexity stack hash binary processor"],
  ["economics", "demand supply inflation tariff monopoly elasticity market interest fiscal unemployment"],
  ["electrical engineering", "circuit voltage resistor capacitor current transistor impedance signal diode amplifier"],
  ["formal logic", "premise proposition validity syllogism predicate quantifier tautology negation inference argument"],
  ["geography", "continent river climate latitude plateau delta population border region monsoon"],
  ["government", "congress senate constitution amendment veto judiciary election federal legislature policy"],
  ["history", "empire treaty revolution dynasty colony war century monarch reform independence"],
  ["jurisprudence", "justice natural positivism rights legal theory judge norm authority rule"],
  ["law", "contract plaintiff defendant tort negligence statute liability evidence court damages"],
  ["marketing", "brand consumer advertising segment pricing campaign loyalty product retail promotion"],
  ["mathematics", "integer polynomial equation derivative integral matrix prime function theorem vector"],
  ["medicine", "patient diagnosis symptom dose infection therapy clinical chronic syndrome treatment"],
  ["moral scenarios", "wrong morally scenario character ordinary standards action harm honest intentionally"],
  ["nutrition", "vitamin diet calorie protein fiber mineral deficiency carbohydrate intake metabolism"],
  ["philosophy", "ethics virtue epistemology metaphysics utilitarian kant aristotle knowledge being mind"],
  ["physics", "force velocity energy momentum mass gravity wave quantum friction acceleration"],
  ["psychology", "behavior memory cognition stimulus conditioning perception emotion personality therapy development"],
  ["sociology", "society culture norms class institution socialization deviance community family status"],
  ["statistics", "variance sample hypothesis regression probability distribution mean confidence significance estimator"],
  ["security", "encryption attack password firewall malware vulnerability authentication protocol key exploit"],
  ["accounting", "asset liability revenue depreciation ledger audit equity expense balance inventory"],
  ["management", "leadership organization strategy employee motivation team structure planning decision control"],
  ["virology", "virus vaccine host replication capsid antibody pathogen transmission viral immune"],
  ["religions", "ritual scripture deity temple prophet faith pilgrimage monastery doctrine sacred"],
  ["foreign policy", "diplomacy alliance sanctions embassy treaty sovereignty nuclear summit security relations"],
  ["prehistory", "neolithic hominid fossil tool paleolithic settlement agriculture bronze excavation artifact"],
];

const GENERAL = "the a of which following best is are most likely following statement describes what why how in on for with by".split(" ");
const STEMS = [
  "Which of the following best describes the {w1} in {s}?",
  "In {s}, what is the main role of the {w1}?",
  "Which statement about {w1} and {w2} is correct?",
  "A {w1} is observed together with a {w2}. What is the most likely explanation?",
  "What is the primary purpose of {w1} in {s}?",
  "Which of the following is an example of {w1}?",
  "According to standard {s} texts, the {w1} is associated with which {w2}?",
  "Why does the {w1} affect the {w2}?",
];
// Cues of harder questions: about 30 % of an item's difficulty shows through them.
const HARD_STEMS = [
  "Which of the following is NOT true of the {w1} in {s}?",
  "All of the following are features of {w1} EXCEPT:",
  "Calculate the {w1} given that the {w2} doubles while the {w3} is held constant.",
  "Which of the following statements about {w1}, {w2} and {w3} is least accurate?",
];
const OPTIONS = ["increase in", "decrease of", "lack of", "change in", "the same", "none of the above", "both", "an unrelated", "a greater", "a smaller"];

interface Subject {
  name: string;
  words: string[];
  strongLogit: number;
  gap: number;
  weight: number;
}

export function examTable(seed: number, count = 14_000): GeneratedItem[] {
  const rng = seededRng(seed);
  const subjects: Subject[] = SUBJECTS.map(([name, words]) => ({
    name,
    words: words.split(" "),
    strongLogit: uniform(rng, 0.6, 3.4),
    gap: uniform(rng, 0.3, 1.5),
    // Subjects differ a lot in size (the largest real ones hold over 10 % of the questions).
    weight: Math.exp(0.7 * gaussian(rng)),
  }));
  const total = subjects.reduce((sum, s) => sum + s.weight, 0);
  const items: GeneratedItem[] = [];
  for (let i = 0; i < count; i++) {
    let pick = rng() * total;
    let k = 0;
    while (k < subjects.length - 1 && (pick -= subjects[k]!.weight) > 0) k++;
    const subject = subjects[k]!;
    const visible = gaussian(rng);
    const hidden = gaussian(rng);
    const difficulty = 0.55 * visible + 0.84 * hidden;
    const w = () => subject.words[Math.floor(rng() * subject.words.length)]!;
    const stems = visible > 0.7 ? HARD_STEMS : STEMS;
    let stem = stems[Math.floor(rng() * stems.length)]!.replace("{s}", subject.name).replace("{w1}", w()).replace("{w2}", w()).replace("{w3}", w());
    // Harder questions run a little longer: a context sentence before the question.
    if (visible + 0.8 * gaussian(rng) > 0.6) stem = `Consider a case in ${subject.name} involving the ${w()} and the ${w()}. ${stem}`;
    const options = ["A", "B", "C", "D"].map((letter) => `${letter}. ${OPTIONS[Math.floor(rng() * OPTIONS.length)]} ${w()}${rng() < 0.3 ? ` ${GENERAL[Math.floor(rng() * GENERAL.length)]} ${w()}` : ""}`);
    const prompt = `${stem}\n${options.join("\n")}\nAnswer:`;
    const strong = sigmoid(subject.strongLogit - 1.2 * difficulty);
    const weak = sigmoid(subject.strongLogit - subject.gap - 1.2 * difficulty);
    const cues = `${subject.name}|${stems === HARD_STEMS ? "hard" : "plain"}|${stem.startsWith("Consider") ? "context" : "bare"}`;
    items.push(item(`exam-${i}`, subject.name, cues, prompt, weak, strong, rng, [1, 1]));
  }
  return items;
}

// ------------------------------------------------------------------------------------------------------------- math

const NAMES = ["Maria", "Tom", "Aisha", "Kenji", "Lucas", "Priya", "Omar", "Elena", "Sam", "Nora", "Diego", "Mei"];
const THINGS = ["apples", "marbles", "books", "stickers", "cookies", "pencils", "tickets", "eggs", "coins", "plants"];
interface Step {
  text: string;
  /** Extra difficulty of this kind of step, in logits, for [weak, strong]. */
  cost: [number, number];
}
const STEP_KINDS: Array<(rng: Rng, thing: string, name: string) => Step> = [
  (rng, thing) => ({ text: `Then she buys ${int(rng, 2, 40)} more ${thing}.`, cost: [0, 0] }),
  (rng, thing) => ({ text: `She gives away ${int(rng, 2, 20)} ${thing} to a friend.`, cost: [0, 0] }),
  (rng, thing, name) => ({ text: `${name}'s brother has ${int(rng, 2, 5)} times as many ${thing} as that.`, cost: [0.2, 0.05] }),
  (rng, thing) => ({ text: `Each box holds ${int(rng, 3, 12)} ${thing}, and she fills every box she can.`, cost: [0.45, 0.1] }),
  (rng, thing) => ({ text: `She sells ${int(rng, 10, 75)} percent of the ${thing} at $${int(rng, 1, 9)} each.`, cost: [0.7, 0.2] }),
  (rng, thing) => ({ text: `Half of the remaining ${thing} are damaged, and a third of the rest are lost.`, cost: [0.8, 0.25] }),
  (rng, thing) => ({ text: `Over ${int(rng, 2, 7)} days she collects ${int(rng, 3, 15)} ${thing} per day.`, cost: [0.35, 0.1] }),
];
const QUESTIONS = ["How many {t} does she have left?", "How much money does she make?", "How many {t} are there in total?", "How many more {t} does her brother have?"];

export function mathTable(seed: number, count = 1300): GeneratedItem[] {
  const rng = seededRng(seed);
  const items: GeneratedItem[] = [];
  for (let i = 0; i < count; i++) {
    // 2–8 steps, most 3–5.
    const steps = Math.max(2, Math.min(8, Math.round(4 + 1.4 * gaussian(rng))));
    const name = NAMES[Math.floor(rng() * NAMES.length)]!;
    const thing = THINGS[Math.floor(rng() * THINGS.length)]!;
    const sentences = [`${name} has ${int(rng, 5, 90)} ${thing}.`];
    let weakCost = 0;
    let strongCost = 0;
    const kinds: number[] = [];
    for (let s = 1; s < steps; s++) {
      const kind = Math.floor(rng() * STEP_KINDS.length);
      kinds.push(kind);
      const step = STEP_KINDS[kind]!(rng, thing, name);
      sentences.push(step.text);
      weakCost += step.cost[0];
      strongCost += step.cost[1];
    }
    sentences.push(QUESTIONS[Math.floor(rng() * QUESTIONS.length)]!.replaceAll("{t}", thing));
    const hidden = gaussian(rng);
    const strong = sigmoid(3.2 - 0.35 * steps - strongCost - 1.0 * hidden);
    const weak = sigmoid(2.4 - 0.55 * steps - weakCost - 1.0 * hidden);
    const cues = `${steps}|${kinds.sort().join(",")}`;
    items.push(item(`math-${i}`, `${steps} steps`, cues, sentences.join(" "), weak, strong, rng, [40 + 25 * steps, 30 + 20 * steps]));
  }
  return items;
}

// ------------------------------------------------------------------------------------------------------- helpers

function item(id: string, kind: string, cues: string, prompt: string, weak: number, strong: number, rng: Rng, output: [number, number]): GeneratedItem {
  // Outcomes share one draw most of the time: beyond the difficulty both see, what trips one model often trips
  // the other.
  const shared = rng();
  const draw = () => (rng() < 0.5 ? shared : rng());
  const inputTokens = Math.ceil(prompt.length / 4);
  return {
    id, kind, cues, prompt, p: [weak, strong], success: [draw() < weak, draw() < strong], inputTokens,
    outputTokens: [Math.round(output[0] * uniform(rng, 0.8, 1.2)), Math.round(output[1] * uniform(rng, 0.8, 1.2))],
  };
}

function int(rng: Rng, lo: number, hi: number): number {
  return lo + Math.floor(rng() * (hi - lo + 1));
}

function uniform(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng();
}

function gaussian(rng: Rng): number {
  return Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}

function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}
