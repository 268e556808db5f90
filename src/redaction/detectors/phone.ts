import { parsePhoneNumberFromString, type CountryCode } from "libphonenumber-js/max";
import type { Detector, Finding } from "../interface.js";
import { standsAlone } from "./boundaries.js";

/**
 * Phone numbers: international (+…, 00…) in any country, national formats of the configured regions. Candidates
 * are found by one linear pattern (digit groups joined by a space, dot, dash, slash or parentheses); each is then
 * checked against the numbering plan by libphonenumber-js (its full "max" metadata, bundled: no network), so that a
 * run of digits is only a phone number if some plan could have issued it. National numbers must be written grouped
 * ("(415) 555-2671", "030 1234 5678") or follow a word such as "phone"; a bare run of digits is too often an order
 * number to call it a phone number.
 */
const CANDIDATE = /\+?\(?\d+(?:(?:[ .\-/]|\) ?| ?\()\d+)*\)?/g;
const MIN_DIGITS = 7;
/** E.164 allows 15; "00" before the country code adds two. */
const MAX_DIGITS = 17;
const MAX_GROUPS = 8;
const TRIES_PER_START = 4;
const KEYWORD = /(?:\b(?:tel|tél|phone|mobile|cell|fax|call|ring|whatsapp|telefon|téléphone|portable|handy|móvil|teléfono|numéro)\b[^0-9\n]{0,12})$/i;
const DATE = /^\d{1,4}([./-])\d{1,2}\1\d{1,4}$/;
/** North American numbering plan: ten digits, area code and exchange from 2. */
const NANP = new Set(["US", "CA", "PR", "GU", "VI", "AS", "MP", "BS", "BB", "JM", "TT", "DO", "BM"]);
/** Regions whose national numbers start with the trunk prefix 0 (checked before asking libphonenumber). */
const TRUNK_ZERO = new Set(["GB", "DE", "FR", "NL", "BE", "AT", "CH", "IE", "SE", "FI", "PL", "PT", "AU", "NZ", "IN", "JP"]);

interface Group {
  start: number;
  end: number;
}

export const phoneDetector: Detector = {
  kinds: ["phone"],
  find(text, options) {
    const findings: Finding[] = [];
    // Numbering-plan checks cost microseconds each: bound them by the text's length so that a page of digits
    // stays linear. Ordinary text spends a fraction of this.
    const budget = { parses: 64 + Math.ceil(text.length / 32) };
    const regions = options.phoneRegions as readonly CountryCode[];
    CANDIDATE.lastIndex = 0;
    for (let m = CANDIDATE.exec(text); m; m = CANDIDATE.exec(text)) {
      if (m[0].length < MIN_DIGITS) continue; // most numbers in prose: "42", "2024"
      // Digits glued to letters ("DE89 3704 …", "SKU12 345 …") belong to some code, not to a phone number.
      if (m.index > 0 && /[A-Za-z]/.test(text[m.index - 1]!)) continue;
      const groups: Group[] = [];
      for (const g of m[0].matchAll(/\d+/g)) groups.push({ start: m.index + g.index, end: m.index + g.index + g[0].length });
      findInRun(text, m.index, groups, regions, budget, findings);
    }
    return findings;
  },
};

/**
 * Phone numbers in one run of groups. Unmarked, a national number must be the whole run: inside a longer run of
 * digit groups ("1 85 05 78 006 084 37") some stretch is bound to fit a numbering plan by chance. A "+", "00" or
 * "(" marks a start firmly enough to let other numbers share the run ("2024 (312) 528-7531", "… / +1 …").
 */
function findInRun(text: string, offset: number, groups: Group[], regions: readonly CountryCode[], budget: { parses: number }, findings: Finding[]): void {
  const prefix = [0];
  for (const g of groups) prefix.push(prefix.at(-1)! + g.end - g.start);
  if (prefix.at(-1)! < MIN_DIGITS) return;
  const marked = (i: number) => text[groups[i]!.start - 1] === "+" || text[groups[i]!.start - 1] === "(" || (i === 0 && text.startsWith("00", groups[0]!.start) && groups[0]!.end - groups[0]!.start > 2);
  if (!marked(0) && prefix.at(-1)! <= MAX_DIGITS && groups.length <= MAX_GROUPS) {
    const found = tryPhone(text, groups, 0, groups.length - 1, regions, budget);
    if (found) {
      findings.push(found);
      return;
    }
  }
  let jMax = 0;
  for (let i = 0; i < groups.length && budget.parses > 0; i++) {
    jMax = Math.max(jMax, i);
    while (jMax + 1 < groups.length && jMax + 1 - i < MAX_GROUPS && prefix[jMax + 2]! - prefix[i]! <= MAX_DIGITS) jMax++;
    if (!marked(i)) continue;
    let tries = 0;
    for (let j = jMax; j >= i && tries < TRIES_PER_START; j--) {
      if (prefix[j + 1]! - prefix[i]! < MIN_DIGITS) break;
      tries++;
      const found = tryPhone(text, groups, i, j, regions, budget);
      if (found) {
        findings.push(found);
        i = j;
        break;
      }
    }
  }
}

/** Groups i..j as a phone number, with a leading "+" or "(" and a closing ")" that belong to it. */
function tryPhone(text: string, groups: Group[], i: number, j: number, regions: readonly CountryCode[], budget: { parses: number }): Finding | undefined {
  let start = groups[i]!.start;
  if (text[start - 1] === "+" || text[start - 1] === "(") start--;
  if (text[start] === "(" && text[start - 1] === "+") start--;
  let end = groups[j]!.end;
  if (text[end] === ")" && text.lastIndexOf("(", end) >= start) end++;
  return isPhone(text, start, end, i === j, regions, budget) ? { kind: "phone", start, end, validated: true } : undefined;
}

function isPhone(text: string, start: number, end: number, bare: boolean, regions: readonly CountryCode[], budget: { parses: number }): boolean {
  if (!standsAlone(text, start, end)) return false;
  const span = text.slice(start, end);
  if (DATE.test(span)) return false;
  const digits = span.replace(/\D/g, "");
  if (span.startsWith("+")) return digits.length <= 15 && parses(`+${digits}`, undefined, budget);
  if (digits.startsWith("00") && !bare) return digits.length <= 17 && parses(`+${digits.slice(2)}`, undefined, budget);
  if (bare && !KEYWORD.test(text.slice(Math.max(0, start - 40), start))) return false;
  return regions.some((region) => plausible(digits, region) && parses(span, region, budget));
}

/** Cheap shape checks that spare most numbering-plan lookups. */
function plausible(digits: string, region: string): boolean {
  if (NANP.has(region)) return (digits.length === 10 && digits[0]! >= "2") || (digits.length === 11 && digits[0] === "1" && digits[1]! >= "2");
  if (TRUNK_ZERO.has(region)) return digits[0] === "0" && digits.length >= 6 && digits.length <= 13;
  return digits.length >= MIN_DIGITS && digits.length <= 15;
}

function parses(number: string, region: CountryCode | undefined, budget: { parses: number }): boolean {
  if (budget.parses <= 0) return false;
  budget.parses--;
  return parsePhoneNumberFromString(number, region)?.isValid() === true;
}
