import { capitalise, Draw, fewShotPrompt, fill, heldOutMarkers, itemId, splitOfSeed, type SplitList } from "./common.js";
import { checkLabel, type LabelForms } from "./labels.js";
import type { EvalItem, TaskSet } from "./types.js";

type Topic = "sports" | "business" | "science" | "health" | "politics";
const TOPICS: readonly Topic[] = ["sports", "business", "science", "health", "politics"];
/** What an embedding model compares a news item with: each topic's own field, in words no template uses verbatim. */
const DESCRIPTIONS: Readonly<Record<Topic, string>> = {
  sports: "Sports news: a match, a team, athletes and a championship.",
  business: "Business news: companies, markets, profits and deals.",
  science: "Science news: researchers, a study, an experiment and a discovery.",
  health: "Health news: doctors, patients, a hospital and a treatment.",
  politics: "Political news: the government, ministers, parliament and an election.",
};
const FORMS: LabelForms = {
  sports: ["sports", "sport"],
  business: ["business"],
  science: ["science", "scientific"],
  health: ["health"],
  politics: ["politics", "political"],
};

/**
 * News-like sentences per topic in two tiers. Plain: the topic's own vocabulary throughout. Crossed: words of another
 * topic (money in a sports story, a minister in a health story) around what the story is about. Slots are filled
 * from the lists below; they never decide the topic.
 */
const TEMPLATES: ReadonlyArray<Record<Topic, SplitList<string>>> = [
  {
    sports: {
      tune: [
        "{team} beat {team2} 3-1 to reach the cup final.",
        "The striker scored twice as {team} won the league title.",
        "{name} won the marathon in {city} in just over two hours.",
        "The tennis champion lost in the first round of the tournament in {city}.",
      ],
      holdout: ["The goalkeeper saved a penalty in the last minute to keep {team} in the championship."],
    },
    business: {
      tune: [
        "Shares in {company} rose {n}% after the firm reported record profits.",
        "{company} will cut {n} jobs as its sales keep falling.",
        "The two retailers agreed a merger worth {n} billion dollars.",
        "{company} opened a new factory in {city}, creating {n} jobs.",
      ],
      holdout: ["The bank's quarterly earnings beat what investors had forecast."],
    },
    science: {
      tune: [
        "Astronomers discovered a new planet orbiting a nearby star.",
        "Physicists measured the mass of the particle with record precision.",
        "Researchers in {city} found bacteria that can break down plastic.",
        "A fossil found in {country} shows that some early birds had teeth.",
      ],
      holdout: ["Chemists created a new material that is lighter than aluminium and stronger than steel."],
    },
    health: {
      tune: [
        "Doctors warn that the flu season has filled hospitals in {city}.",
        "A new vaccine cut infections by {n}% in a large trial.",
        "Nurses say the clinic needs more staff to treat its patients quickly.",
        "Regular walking lowers blood pressure in older adults, doctors say.",
      ],
      holdout: ["The hospital in {city} opened a new ward for children with asthma."],
    },
    politics: {
      tune: [
        "The prime minister called an early election after losing a vote in parliament.",
        "Voters in {city} elected a new mayor on Sunday.",
        "The senate passed the new immigration law by {n} votes to {m}.",
        "The opposition leader promised to cut taxes if her party wins the election.",
      ],
      holdout: ["The president signed a treaty to end the border dispute with {country}."],
    },
  },
  {
    sports: {
      tune: [
        "{team} paid a record fee of {n} million euros for the young midfielder.",
        "The star sprinter will miss the season after hurting her knee in training.",
        "Club members voted to sack the coach of {team} after six defeats in a row.",
      ],
      holdout: ["The cyclist was stripped of her medal after failing a doping test."],
    },
    business: {
      tune: [
        "The central bank raised interest rates to slow rising prices.",
        "{company} recalled {n} thousand cars after engineers found a faulty brake part.",
        "The drug maker's shares fell after sales of its flu medicine slowed.",
      ],
      holdout: ["The sports brand's profits fell as fewer people bought its running shoes."],
    },
    science: {
      tune: [
        "The space agency's new probe landed on a comet after a ten-year journey.",
        "Biologists tracked {n} whales to learn how they find their way across the ocean.",
        "Engineers in {city} built a robot that can climb walls like a gecko.",
      ],
      holdout: ["Geologists warned that the volcano near {city} could erupt soon after measuring new gas levels."],
    },
    health: {
      tune: [
        "People who slept less than six hours a night caught colds more often, a study of {n} adults found.",
        "Football players who head the ball often show more signs of memory loss.",
        "The city will pay for free dental checkups for every school child.",
      ],
      holdout: ["Runners who stretch before a race are no less likely to be injured, physiotherapists found."],
    },
    politics: {
      tune: [
        "The health minister resigned after the coalition lost its majority.",
        "Lawmakers voted to ban members of parliament from trading shares.",
        "Two parties agreed to form a government after weeks of talks.",
      ],
      holdout: ["The sports minister was sacked after criticising the prime minister in public."],
    },
  },
];

/** Held-out templates (their literal text). */
export const HELD_OUT: readonly string[] = heldOutMarkers(...TEMPLATES.flatMap((tier) => Object.values(tier)));

const TEAMS = ["Riverside United", "Northport City", "the Harbour Sharks", "Westfield Rovers", "the Valley Eagles", "Lakeside Athletic"];
const COMPANIES = ["Norvex", "Brightline", "Kestrel Foods", "Alder Motors", "Quanta Telecom", "Marlow Steel"];
const CITIES = ["Lyon", "Osaka", "Denver", "Porto", "Leeds", "Graz", "Perth", "Bergen"];
const COUNTRIES = ["Argentina", "Mongolia", "Morocco", "Canada", "Portugal", "Vietnam"];
const NAMES = ["Anna Berg", "Tom Reyes", "Lena Novak", "Samir Haddad", "Mei Tanaka", "Joao Silva"];

const LABEL_HEADER = "Topics: sports, business, science, health, politics.";
/**
 * Written for the prompt only, never a test item. Without the header line Gemma invented labels ("astronomy",
 * "physics"); with it, three examples did as well as one per topic.
 */
const FEW_SHOT = [
  "Text: The bakery chain reported higher profits this year.\nTopic: business",
  "Text: A chemist explained why ice floats on water.\nTopic: science",
  "Text: The parliament debated the new budget.\nTopic: politics",
];

function item(draw: Draw, seed: number, index: number): EvalItem {
  const split = splitOfSeed(seed);
  // Topics cycle and tiers change every five items, so any ten consecutive items cover every topic and tier.
  const topic = TOPICS[index % TOPICS.length]!;
  const tier = TEMPLATES[Math.floor(index / TOPICS.length) % TEMPLATES.length]!;
  const [team, team2] = draw.shuffled(TEAMS);
  // A team slot may open the sentence ("the Valley Eagles paid …").
  const text = capitalise(fill(draw.pick(tier[topic][split]), {
    team: team!,
    team2: team2!,
    company: draw.pick(COMPANIES),
    city: draw.pick(CITIES),
    country: draw.pick(COUNTRIES),
    name: draw.pick(NAMES),
    n: draw.int(12, 90),
    m: draw.int(3, 11),
  }));
  return {
    id: itemId("topic", seed, index),
    kind: "topic",
    taskType: "classification",
    seed,
    split,
    // SmolLM2 leans to the first topic listed, whatever the text ("Sports" for nearly all with sports first); this
    // wording and order gave it its best share in trials, which is still low.
    messages: [
      { role: "user", content: `What is the topic of this news: "${text}" Choose one: politics, health, science, business, sports.` },
    ],
    completion: { prompt: fewShotPrompt(LABEL_HEADER, FEW_SHOT, `Text: ${text}\nTopic:`), stop: ["\n"] },
    nearest: { text, labels: DESCRIPTIONS },
    // Room for SmolLM2's "The topic of this news is politics, …"; base models stop at the newline.
    maxTokens: 16,
    expected: topic,
    check: (answer) => checkLabel(answer, topic, FORMS),
  };
}

export const topicTasks: TaskSet = {
  kind: "topic",
  description: "One-sentence news items labelled sports, business, science, health or politics; half carry another topic's words.",
  generate(seed, count) {
    const draw = new Draw("topic", seed);
    return Array.from({ length: count }, (_, index) => item(draw, seed, index));
  },
};
