import { cardValid, nhsValid, ssnValid, steuerIdValid } from "../checksums.js";
import type { Detector, Finding } from "../interface.js";
import type { PiiKind } from "../kinds.js";
import { digitRuns, digitsOf, standsAlone, type DigitGroup } from "./boundaries.js";

/**
 * Identifiers written as digits in groups: payment cards (13–19, Luhn), UK NHS numbers (10, mod 11), German
 * Steuer-IDs (11, MOD 11,10) and US SSNs (AAA-GG-SSSS, or 9 bare digits right after "SSN"). Each span tried starts
 * and ends on group edges, so "4111 1111 1111 1111 2024" still yields the card.
 */
const MIN_DIGITS = 9;
const MAX_DIGITS = 19;
const SSN_KEYWORD = /(?:\bssn|social security(?: number| no\.?)?)\s*[:#]?\s*$/i;

export const numberDetector: Detector = {
  kinds: ["credit_card", "uk_nhs", "de_tax_id", "us_ssn"],
  find(text, options) {
    const wanted = new Set<PiiKind>(options.kinds);
    const findings: Finding[] = [];
    for (const groups of digitRuns(text, MIN_DIGITS)) {
      // Digits glued to letters ("DE89 3704 …", "SKU12 345 …") belong to some code: no stretch of them is taken.
      if (groups[0]!.start > 0 && /[A-Za-z]/.test(text[groups[0]!.start - 1]!)) continue;
      for (let i = 0; i < groups.length; i++) {
        let digits = 0;
        for (let j = i; j < groups.length; j++) {
          const size = groups[j]!.end - groups[j]!.start;
          digits += size;
          if (digits > MAX_DIGITS) break;
          // No grouping of these identifiers has a one-digit group: a span holding one never becomes one.
          if (size === 1) break;
          if (digits < MIN_DIGITS) continue;
          const start = groups[i]!.start;
          const end = groups[j]!.end;
          if (!standsAlone(text, start, end)) continue;
          // One number is written with one kind of separator: "2024 4872-1812-9846" is a year and most of a card.
          if (j > i && !sameSeparators(text, groups, i, j)) continue;
          const kind = classify(text, groups.slice(i, j + 1), digitsOf(text, start, end), wanted);
          if (kind) findings.push({ kind, start, end, validated: kind !== "us_ssn" });
        }
      }
    }
    return findings;
  },
};

function classify(text: string, groups: DigitGroup[], digits: string, wanted: Set<PiiKind>): PiiKind | undefined {
  const sizes = groups.map((g) => g.end - g.start);
  if (wanted.has("credit_card") && digits.length >= 13 && (sizes.length === 1 || sizes.every((s) => s >= 3)) && cardValid(digits)) return "credit_card";
  if (wanted.has("uk_nhs") && digits.length === 10 && (sizes.length === 1 || sizes.join() === "3,3,4") && nhsValid(digits)) return "uk_nhs";
  if (wanted.has("de_tax_id") && digits.length === 11 && sizes.every((s) => s >= 2) && steuerIdValid(digits)) return "de_tax_id";
  if (wanted.has("us_ssn") && digits.length === 9 && ssnValid(digits)) {
    if (sizes.join() === "3,2,4" && text[groups[0]!.end] === text[groups[1]!.end]) return "us_ssn";
    if (sizes.length === 1 && SSN_KEYWORD.test(text.slice(Math.max(0, groups[0]!.start - 40), groups[0]!.start))) return "us_ssn";
  }
  return undefined;
}

function sameSeparators(text: string, groups: DigitGroup[], i: number, j: number): boolean {
  const separator = text[groups[i]!.end];
  for (let k = i + 1; k < j; k++) if (text[groups[k]!.end] !== separator) return false;
  return true;
}
