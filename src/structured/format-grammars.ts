import { literal, type Fragment, type GbnfRules } from "./gbnf.js";
import { MAX_FRACTION_DIGITS } from "./grammar-limits.js";

/**
 * Exact grammars for the formats whose syntax is regular, so that output satisfies them by construction rather
 * than by luck. Each is a subset of what the validator accepts: February never gets a 29th and no time a leap
 * second, which keeps the grammars small and every value they allow valid.
 */

const TWO_DIGIT_HOUR = '([01] [0-9] | "2" [0-3])';
const SIXTY = "[0-5] [0-9]";

function date(rules: GbnfRules): string {
  const monthDay = rules.define(
    "month-day",
    [
      '("0" [13578] | "1" [02]) "-" ("0" [1-9] | [12] [0-9] | "3" [01])',
      '("0" [469] | "11") "-" ("0" [1-9] | [12] [0-9] | "30")',
      '"02-" ("0" [1-9] | "1" [0-9] | "2" [0-8])',
    ].join(" | "),
  );
  return rules.define("date", `[0-9]{4} "-" ${monthDay}`);
}

function time(rules: GbnfRules): string {
  const offset = `("Z" | [+-] ${TWO_DIGIT_HOUR} ":" ${SIXTY})`;
  return rules.define(
    "time",
    `${TWO_DIGIT_HOUR} ":" ${SIXTY} ":" ${SIXTY} ("." [0-9]{1,${MAX_FRACTION_DIGITS}})? ${offset}`,
  );
}

const TIME_CHARS = "hh:mm:ss".length + 1 + MAX_FRACTION_DIGITS + "+hh:mm".length;

const FORMAT_GRAMMARS: Record<string, (rules: GbnfRules) => { body: string; chars: number }> = {
  date: (rules) => ({ body: date(rules), chars: "yyyy-mm-dd".length }),
  time: (rules) => ({ body: time(rules), chars: TIME_CHARS }),
  "date-time": (rules) => ({ body: `${date(rules)} "T" ${time(rules)}`, chars: "yyyy-mm-ddT".length + TIME_CHARS }),
  uuid: () => ({
    body: '[0-9a-f]{8} "-" [0-9a-f]{4} "-" [0-9a-f]{4} "-" [0-9a-f]{4} "-" [0-9a-f]{12}',
    chars: 36,
  }),
  ipv4: (rules) => {
    const octet = rules.define("octet", '"25" [0-5] | "2" [0-4] [0-9] | "1" [0-9] [0-9] | [1-9]? [0-9]');
    return { body: [octet, octet, octet, octet].join(' "." '), chars: 15 };
  },
};

/** A quoted string in the given format, or undefined when the format has no grammar of its own. */
export function formatGrammar(rules: GbnfRules, format: string): Fragment | undefined {
  const build = Object.hasOwn(FORMAT_GRAMMARS, format) ? FORMAT_GRAMMARS[format] : undefined;
  if (build === undefined) return undefined;
  const { body, chars } = build(rules);
  const quote = literal('"').element;
  return { element: rules.define(`${format}-string`, `${quote} ${body} ${quote}`), maxChars: chars + 2 };
}
