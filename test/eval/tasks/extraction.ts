import { parseStructuredOutput } from "../../../src/structured/validator.js";
import { Draw, fewShotPrompt, fill, heldOutMarkers, itemId, quoted, splitOfSeed, type SplitList } from "./common.js";
import type { CheckResult, EvalItem, TaskSet } from "./types.js";

type Fields = Record<string, string | number>;

/** One kind of record: its schema, its texts in two tiers, and how a text's slots become the expected fields. */
interface RecordKind {
  instruction: string;
  schema: Record<string, unknown>;
  /** Plain: the fields in schema order, nothing else. Harder: reordered, with a distracting value or a conversion. */
  tiers: readonly [SplitList<string>, SplitList<string>];
  slots(draw: Draw, split: "tune" | "holdout"): { slots: Fields; expected: Fields };
  /** Written for the completion prompt only: names and cities outside the lists below, so never a test item. */
  fewShot: readonly string[];
}

const NAMES: SplitList<string> = {
  tune: ["Maria Lopez", "Tom Becker", "Aisha Khan", "Lucas Moreau", "Nina Petrova", "David Okafor", "Sofia Rossi", "Kenji Sato", "Emma Lindqvist", "Omar Haddad"],
  holdout: ["Clara Jensen", "Ravi Patel", "Helena Costa", "Yusuf Demir"],
};
const CITIES: SplitList<string> = {
  tune: ["Madrid", "Lisbon", "Hamburg", "Toronto", "Krakow", "Nairobi", "Melbourne", "Dublin", "Seville", "Oslo"],
  holdout: ["Valencia", "Gdansk", "Brisbane", "Quebec"],
};
const GOODS = ["chairs", "desk lamps", "notebooks", "coffee mugs", "printer cartridges", "USB cables"];
const WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

const boundedString = (maxLength: number) => ({ type: "string", minLength: 1, maxLength });

function objectSchema(properties: Record<string, unknown>): Record<string, unknown> {
  return { type: "object", properties, required: Object.keys(properties), additionalProperties: false };
}

const PERSON: RecordKind = {
  instruction: "Extract the person's name, age and the city where they live now",
  schema: objectSchema({ name: boundedString(40), age: { type: "integer", minimum: 0, maximum: 120 }, city: boundedString(30) }),
  tiers: [
    { tune: ["{name} is {age} years old and lives in {city}.", "{name}, aged {age}, lives in {city}."], holdout: ["{name} ({age}) has a flat in {city}."] },
    {
      tune: ["Born in {other}, {name} now lives in {city} and turned {age} last week.", "{name} lives in {city}, works {hours} hours a week and is {age}."],
      holdout: ["{name}, who is {age}, left {other} and now lives in {city}."],
    },
  ],
  slots(draw, split) {
    const [city, other] = draw.shuffled(CITIES[split]);
    const fields = { name: draw.pick(NAMES[split]), age: draw.int(19, 88), city: city! };
    return { slots: { ...fields, other: other!, hours: draw.int(20, 45) }, expected: fields };
  },
  fewShot: [
    'Text: Peter Hall is 52 years old and lives in Leeds.\nJSON: {"name": "Peter Hall", "age": 52, "city": "Leeds"}',
    'Text: Julia Weber grew up in Rome, but at 29 her home is Vienna.\nJSON: {"name": "Julia Weber", "age": 29, "city": "Vienna"}',
  ],
};

const ORDER: RecordKind = {
  instruction: "Extract the order number, the customer's name and the quantity ordered",
  schema: objectSchema({ order_id: boundedString(12), customer: boundedString(40), quantity: { type: "integer", minimum: 1, maximum: 500 } }),
  tiers: [
    {
      tune: ["Order {order_id}: {customer} bought {quantity} {goods}.", "{customer} placed order {order_id} for {quantity} {goods}."],
      holdout: ["Invoice for order {order_id}: {quantity} {goods}, customer {customer}."],
    },
    {
      tune: [
        "{customer} paid {price} euros for {quantity} {goods} on order {order_id}.",
        "On {date} March, {customer} (order {order_id}) asked for {quantity} {goods}.",
      ],
      holdout: ["For order {order_id}, {customer} wants {quantity} {goods}, {price} euros in all."],
    },
  ],
  slots(draw, split) {
    const fields = { order_id: `ORD-${draw.int(1000, 9999)}`, customer: draw.pick(NAMES[split]), quantity: draw.int(2, 60) };
    return { slots: { ...fields, goods: draw.pick(GOODS), price: draw.int(100, 990), date: draw.int(2, 28) }, expected: fields };
  },
  fewShot: [
    'Text: Order ORD-0412: Ben Ford bought 7 staplers.\nJSON: {"order_id": "ORD-0412", "customer": "Ben Ford", "quantity": 7}',
    'Text: Lea Brandt paid 60 euros for 3 folders on order ORD-0977.\nJSON: {"order_id": "ORD-0977", "customer": "Lea Brandt", "quantity": 3}',
  ],
};

const BOOKING: RecordKind = {
  instruction: "Extract the name, the weekday and the hour (0-23) of the booking",
  schema: objectSchema({ name: boundedString(40), weekday: { enum: WEEKDAYS }, hour: { type: "integer", minimum: 0, maximum: 23 } }),
  tiers: [
    {
      tune: ["{name} booked a table for {weekday} at {hour}:00.", "Table for {name} on {weekday}, {hour}:00."],
      holdout: ["{name} reserved the meeting room for {weekday} at {hour}:00."],
    },
    // The hour is given on a 12-hour clock: the answer needs hour + 12.
    {
      tune: ["{name} booked a table for {weekday} at {pm} pm.", "See you on {weekday} at {pm} in the evening, {name}!"],
      holdout: ["{name} reserved the meeting room for {weekday} at {pm} pm."],
    },
  ],
  slots(draw, split) {
    const pm = draw.int(1, 9);
    const fields = { name: draw.pick(NAMES[split]), weekday: draw.pick(WEEKDAYS), hour: pm + 12 };
    return { slots: { ...fields, pm }, expected: fields };
  },
  fewShot: [
    'Text: Carl Meyer booked a table for Monday at 12:00.\nJSON: {"name": "Carl Meyer", "weekday": "Monday", "hour": 12}',
    'Text: Rosa Diaz booked a table for Sunday at 11 am.\nJSON: {"name": "Rosa Diaz", "weekday": "Sunday", "hour": 11}',
  ],
};

const RECORD_KINDS: readonly RecordKind[] = [PERSON, ORDER, BOOKING];

/** Held-out names, cities and templates (their literal text). */
export const HELD_OUT: readonly string[] = heldOutMarkers(NAMES, CITIES, ...RECORD_KINDS.flatMap((record) => record.tiers));

/** The answer's JSON: the whole answer, or the inside of one ``` fence (chat models without a grammar add them). */
function jsonText(answer: string): string {
  const fenced = /^```(?:json)?\s*([\s\S]*?)\s*```$/.exec(answer.trim());
  return fenced?.[1] ?? answer.trim();
}

const normalised = (value: string) => value.trim().replace(/\s+/g, " ").toLowerCase();

function checkFields(answer: string, schema: Record<string, unknown>, expected: Fields): CheckResult {
  const parsed = parseStructuredOutput(jsonText(answer), schema);
  if (!parsed.ok) {
    const problems = parsed.violations.map((v) => `${v.path || "/"} ${v.message}`).join("; ");
    const what = parsed.violations[0]?.keyword === "json" ? "not JSON" : "not schema-valid";
    return { correct: false, detail: `${what}: ${problems} in ${quoted(answer)}` };
  }
  const got = parsed.value as Record<string, unknown>;
  const wrong = Object.entries(expected).filter(([key, value]) => {
    const actual = got[key];
    return typeof value === "number" ? actual !== value : typeof actual !== "string" || normalised(actual) !== normalised(value);
  });
  if (wrong.length === 0) return { correct: true, detail: "every field matches" };
  const described = wrong.map(([key, value]) => `${key} (expected ${JSON.stringify(value)}, got ${JSON.stringify(got[key])})`);
  return { correct: false, detail: `wrong fields: ${described.join(", ")}` };
}

function item(draw: Draw, seed: number, index: number): EvalItem {
  const split = splitOfSeed(seed);
  // Record kinds cycle and tiers change every three items, so any six consecutive items cover every pairing.
  const record = RECORD_KINDS[index % RECORD_KINDS.length]!;
  const tier = record.tiers[Math.floor(index / RECORD_KINDS.length) % 2]!;
  const template = draw.pick(tier[split]);
  const { slots, expected } = record.slots(draw, split);
  const text = fill(template, slots);
  const keys = Object.keys(expected).join(", ");
  return {
    id: itemId("extraction", seed, index),
    kind: "extraction",
    taskType: "extraction",
    seed,
    split,
    messages: [{ role: "user", content: `${record.instruction} from this text as JSON with the keys ${keys}: "${text}"` }],
    completion: { prompt: fewShotPrompt("", record.fewShot, `Text: ${text}\nJSON:`), stop: ["\n"] },
    schema: record.schema,
    // The grammar lets SmolLM2 write indented JSON (about 30 tokens for three fields); a rambling string runs out.
    maxTokens: 64,
    expected,
    check: (answer) => checkFields(answer, record.schema, expected),
  };
}

export const extractionTasks: TaskSet = {
  kind: "extraction",
  description: "A person, an order or a booking described in one sentence, to be returned as a JSON object of three fields.",
  generate(seed, count) {
    const draw = new Draw("extraction", seed);
    return Array.from({ length: count }, (_, index) => item(draw, seed, index));
  },
};
