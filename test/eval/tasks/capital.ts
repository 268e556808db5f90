import { comparableWords, containsPhrase, Draw, fewShotPrompt, fill, heldOutMarkers, itemId, quoted, splitOfSeed, type SplitList } from "./common.js";
import type { CheckResult, EvalItem, TaskSet } from "./types.js";

/** `[country as it reads in a sentence, capital, other accepted names of the capital...]` */
type Country = readonly [country: string, capital: string, ...aliases: string[]];

/**
 * Countries whose capital is not disputed, recently renamed or shared with a country's or another capital's name.
 * Written roughly from well known to less known, so that both parts span easy and hard: Canberra, Ottawa, Ankara
 * and Abuja come after the capitals everyone knows, and after them come capitals few small models have seen often.
 */
const COUNTRIES: SplitList<Country> = {
  tune: [
    ["France", "Paris"], ["Germany", "Berlin"], ["Spain", "Madrid"], ["Japan", "Tokyo"], ["China", "Beijing"],
    ["Russia", "Moscow"], ["Greece", "Athens"], ["Ireland", "Dublin"], ["Poland", "Warsaw"], ["Norway", "Oslo"],
    ["Denmark", "Copenhagen"], ["Finland", "Helsinki"], ["Hungary", "Budapest"], ["the Czech Republic", "Prague"],
    ["Thailand", "Bangkok"], ["South Korea", "Seoul"], ["Iran", "Tehran"], ["Iraq", "Baghdad"], ["Chile", "Santiago"],
    ["Colombia", "Bogotá"], ["the United States", "Washington"], ["Mexico", "Mexico City"], ["the Philippines", "Manila"],
    ["Afghanistan", "Kabul"], ["Canada", "Ottawa"], ["Australia", "Canberra"], ["Brazil", "Brasília"], ["Nigeria", "Abuja"],
    ["Vietnam", "Hanoi"], ["Morocco", "Rabat"], ["Saudi Arabia", "Riyadh"], ["Ecuador", "Quito"], ["Ghana", "Accra"],
    ["Senegal", "Dakar"], ["Zimbabwe", "Harare"], ["Zambia", "Lusaka"], ["Algeria", "Algiers"], ["Tunisia", "Tunis"],
    ["Jordan", "Amman"], ["Lebanon", "Beirut"], ["Bangladesh", "Dhaka"], ["Cambodia", "Phnom Penh"],
    ["Mongolia", "Ulaanbaatar", "Ulan Bator"], ["Uzbekistan", "Tashkent"], ["Armenia", "Yerevan"], ["Azerbaijan", "Baku"],
    ["Ukraine", "Kyiv", "Kiev"], ["Romania", "Bucharest"], ["Serbia", "Belgrade"], ["Croatia", "Zagreb"],
    ["Slovakia", "Bratislava"], ["Lithuania", "Vilnius"], ["Estonia", "Tallinn"], ["Iceland", "Reykjavík"],
    ["Uruguay", "Montevideo"], ["Paraguay", "Asunción"], ["Nicaragua", "Managua"], ["Honduras", "Tegucigalpa"],
    ["Madagascar", "Antananarivo"], ["Mozambique", "Maputo"], ["Qatar", "Doha"], ["Oman", "Muscat"], ["Bhutan", "Thimphu"],
    ["Tajikistan", "Dushanbe"],
  ],
  holdout: [
    ["Italy", "Rome"], ["the United Kingdom", "London"], ["Egypt", "Cairo"], ["Austria", "Vienna"], ["Sweden", "Stockholm"],
    ["Belgium", "Brussels"], ["Argentina", "Buenos Aires"], ["Cuba", "Havana"], ["Peru", "Lima"], ["Venezuela", "Caracas"],
    ["India", "New Delhi", "Delhi"], ["Syria", "Damascus"], ["Turkey", "Ankara"], ["Pakistan", "Islamabad"],
    ["New Zealand", "Wellington"], ["Ethiopia", "Addis Ababa"], ["Uganda", "Kampala"], ["Angola", "Luanda"],
    ["Sudan", "Khartoum"], ["Nepal", "Kathmandu", "Katmandu"], ["Laos", "Vientiane"], ["Kyrgyzstan", "Bishkek"],
    ["Belarus", "Minsk"], ["Bulgaria", "Sofia"], ["Slovenia", "Ljubljana"], ["Latvia", "Riga"], ["Albania", "Tirana"],
    ["Jamaica", "Kingston"], ["Costa Rica", "San José"], ["Namibia", "Windhoek"], ["North Korea", "Pyongyang"],
    ["Rwanda", "Kigali"],
  ],
};

const ALL_COUNTRIES: readonly Country[] = [...COUNTRIES.tune, ...COUNTRIES.holdout];

const QUESTIONS: SplitList<string> = {
  tune: ["What is the capital of {country}?", "Which city is the capital of {country}?"],
  holdout: ["Name the capital city of {country}."],
};

/** Held-out countries (as the completion prompt names them) and the holdout question's wording. */
export const HELD_OUT: readonly string[] = [
  ...COUNTRIES.holdout.map(([country]) => country.replace(/^the /, "")),
  ...heldOutMarkers(QUESTIONS),
];

/** Written for the prompt only: Portugal and Kenya are in neither list. */
const FEW_SHOT = ["Country: Portugal\nCapital: Lisbon", "Country: Kenya\nCapital: Nairobi"];

/**
 * Correct when one of the capital's names appears as whole words (case and accents ignored) and no other capital
 * of either list does: "Canberra, not Sydney" is right, "Canberra or Wellington" hedges.
 */
function checkCapital(answer: string, country: Country): CheckResult {
  const [, capital, ...aliases] = country;
  const words = comparableWords(answer);
  const named = [capital, ...aliases].some((name) => containsPhrase(words, name));
  const others = ALL_COUNTRIES.filter((other) => other !== country)
    .flatMap(([, ...names]) => names.filter((name) => containsPhrase(words, name)));
  if (named && others.length === 0) return { correct: true, detail: `expected "${capital}", got it` };
  if (others.length > 0) {
    const listed = others.map((name) => `"${name}"`).join(", ");
    return { correct: false, detail: `expected "${capital}", got ${listed}${named ? " as well" : ""}` };
  }
  return { correct: false, detail: `expected "${capital}", got ${quoted(answer)}` };
}

function item(order: readonly Country[], draw: Draw, seed: number, index: number): EvalItem {
  const split = splitOfSeed(seed);
  const country = order[index % order.length]!;
  const [name, capital] = country;
  const question = fill(draw.pick(QUESTIONS[split]), { country: name });
  return {
    id: itemId("capital", seed, index),
    kind: "capital",
    taskType: "chat",
    seed,
    split,
    messages: [{ role: "user", content: `${question} Answer with the name of the city.` }],
    completion: { prompt: fewShotPrompt("", FEW_SHOT, `Country: ${name.replace(/^the /, "")}\nCapital:`), stop: ["\n"] },
    maxTokens: 16,
    expected: capital,
    check: (answer) => checkCapital(answer, country),
  };
}

export const capitalTasks: TaskSet = {
  kind: "capital",
  description: "The capital city of a country, from well known (France) to rarely seen (Bhutan).",
  generate(seed, count) {
    const draw = new Draw("capital", seed);
    // Each seed asks its split's countries in its own order, each once before any comes again.
    const order = draw.shuffled(COUNTRIES[splitOfSeed(seed)]);
    return Array.from({ length: count }, (_, index) => item(order, draw, seed, index));
  },
};
