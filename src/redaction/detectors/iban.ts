import { IBAN_LENGTHS, ibanValid } from "../checksums.js";
import type { Detector, Finding } from "../interface.js";
import { standsAlone } from "./boundaries.js";

/** IBANs, printed (groups of four) or electronic, either case: the country's length exactly, then mod 97. */
export const ibanDetector: Detector = {
  kinds: ["iban"],
  find(text) {
    const findings: Finding[] = [];
    const pattern = /\b[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]){8,30}/g;
    for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
      const length = IBAN_LENGTHS[match[0].slice(0, 2).toUpperCase()];
      if (length === undefined) continue;
      // Take exactly the country's number of characters; what follows must not continue the token.
      let compact = match[0].slice(0, 4).toUpperCase();
      let i = 4;
      for (; i < match[0].length && compact.length < length; i++) {
        if (match[0][i] !== " ") compact += match[0][i]!.toUpperCase();
      }
      const end = match.index + i;
      if (compact.length === length && standsAlone(text, match.index, end) && ibanValid(compact)) {
        findings.push({ kind: "iban", start: match.index, end, validated: true });
        pattern.lastIndex = end;
      } else {
        pattern.lastIndex = match.index + 1;
      }
    }
    return findings;
  },
};
