import { alternation, literal, repeat, sequence, type Fragment, type GbnfRules } from "./gbnf.js";
import { MAX_FRACTION_DIGITS, MAX_INTEGER_DIGITS } from "./grammar-limits.js";

/**
 * Grammars for JSON scalars, compact and ASCII only. Numbers never have an exponent and integers never a fraction,
 * so what the grammar lets through is what JSON.parse turns into an exact, bounded value.
 */

const QUOTE = literal('"').element;

/**
 * Printable ASCII except `"` and `\`, or one of the escapes `\"` and `\\`. Each counts as one character of the
 * decoded string, which is how maxLength counts, but an escape takes two characters of output.
 */
const STRING_CHAR = String.raw`[\x20\x21\x23-\x5B\x5D-\x7E] | "\x5C" [\x22\x5C]`;

export function stringGrammar(rules: GbnfRules, minLength: number, maxLength: number): Fragment {
  const char = rules.define("char", STRING_CHAR);
  const body = sequence(QUOTE, repeat(char, minLength, maxLength), QUOTE);
  return { element: rules.define(`string-${minLength}-${maxLength}`, body), maxChars: 2 + 2 * maxLength };
}

export function booleanGrammar(rules: GbnfRules): Fragment {
  return alternation(rules, "boolean", [literal("true"), literal("false")]);
}

export const NULL_GRAMMAR: Fragment = literal("null");

/** Inclusive bounds on a number as far as the grammar uses them; absent means unbounded on that side. */
export interface NumericBounds {
  lower?: number | undefined;
  upper?: number | undefined;
}

/** Digits of the whole part needed up to `magnitude`, capped so that whole numbers stay safe integers. */
function wholeDigits(magnitude: number | undefined): number {
  if (magnitude === undefined || magnitude >= 10 ** MAX_INTEGER_DIGITS) return MAX_INTEGER_DIGITS;
  return String(Math.floor(magnitude)).length;
}

/** A whole number from 1 up to `digits` digits: no leading zero. */
function positiveDigits(digits: number): string {
  return sequence("[1-9]", repeat("[0-9]", 0, digits - 1));
}

interface Alternative {
  body: string;
  maxChars: number;
}

function alternatives(rules: GbnfRules, nameHint: string, options: Alternative[]): Fragment {
  return {
    element: rules.define(nameHint, options.map((option) => option.body).join(" | ")),
    maxChars: Math.max(...options.map((option) => option.maxChars)),
  };
}

const LARGEST_WHOLE = 10 ** MAX_INTEGER_DIGITS - 1;

/**
 * Splits [low, high] (1 <= low <= high) into ranges that each read as fixed digits, one digit range, then free
 * digits (e.g. 150..199 = "1" [5-9] [0-9]); the classic construction behind numeric-range regular expressions.
 */
function digitRanges(low: number, high: number): Array<[number, number]> {
  const stops = new Set<number>([high]);
  for (let k = 1; ; k++) {
    const stop = Number(String(low).slice(0, -k) + "9".repeat(k));
    if (!(stop >= low && stop < high)) break;
    stops.add(stop);
  }
  for (let k = 1; ; k++) {
    const stop = high + 1 - ((high + 1) % 10 ** k) - 1;
    if (!(stop > low && stop <= high) || String(high + 1).length <= k) break;
    stops.add(stop);
  }
  const ranges: Array<[number, number]> = [];
  let start = low;
  for (const stop of [...stops].sort((a, b) => a - b)) {
    if (stop < start) continue;
    ranges.push([start, stop]);
    start = stop + 1;
  }
  return ranges;
}

function rangePattern([from, to]: [number, number]): string {
  const a = String(from);
  const b = String(to);
  const parts: string[] = [];
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) parts.push(`"${a[i]}"`);
    else if (a[i] === "0" && b[i] === "9") parts.push("[0-9]");
    else parts.push(`[${a[i]}-${b[i]}]`);
  }
  return parts.join(" ");
}

/** Exactly the whole numbers in [low, high], 1 <= low <= high, without leading zeros. */
export function magnitudeGrammar(low: number, high: number): string {
  return digitRanges(low, high).map(rangePattern).map((p) => `(${p})`).join(" | ");
}

/**
 * Exactly the integers within the bounds (a missing bound stops at 15 digits, which keeps values safe
 * integers), so a range like 0..150 never yields 999; "-0" never appears. The bounds must be whole and not
 * crossed.
 */
export function integerGrammar(rules: GbnfRules, { lower, upper }: NumericBounds): Fragment {
  const low = Math.max(lower ?? -LARGEST_WHOLE, -LARGEST_WHOLE);
  const high = Math.min(upper ?? LARGEST_WHOLE, LARGEST_WHOLE);
  const options: Alternative[] = [];
  if (high >= 1) {
    const positive = rules.define(`positive-${Math.max(low, 1)}-${high}`, magnitudeGrammar(Math.max(low, 1), high));
    options.push({ body: positive, maxChars: String(high).length });
  }
  if (low <= 0 && high >= 0) options.push({ body: '"0"', maxChars: 1 });
  if (low <= -1) {
    const negative = rules.define(`negative-${Math.max(-high, 1)}-${-low}`, magnitudeGrammar(Math.max(-high, 1), -low));
    options.push({ body: `"-" ${negative}`, maxChars: 1 + String(-low).length });
  }
  return alternatives(rules, "integer", options);
}

/** Decimal numbers with an optional bounded fraction and no exponent. The bounds must not be crossed. */
export function numberGrammar(rules: GbnfRules, { lower, upper }: NumericBounds): Fragment {
  const fraction = rules.define("fraction", `"." ${repeat("[0-9]", 1, MAX_FRACTION_DIGITS)}`);
  const fractionChars = 1 + MAX_FRACTION_DIGITS;
  const whole = (digits: number) => rules.define(`whole-${digits}`, `"0" | ${positiveDigits(digits)}`);
  const options: Alternative[] = [];
  if (upper === undefined || upper >= 0) {
    const digits = wholeDigits(upper);
    options.push({ body: `${whole(digits)} ${fraction}?`, maxChars: digits + fractionChars });
  }
  if (lower === undefined || lower < 0) {
    const digits = wholeDigits(lower === undefined ? undefined : -lower);
    options.push({ body: `"-" ${whole(digits)} ${fraction}?`, maxChars: 1 + digits + fractionChars });
  }
  return alternatives(rules, "number", options);
}
