import type { Detector, Finding } from "../interface.js";

/**
 * Email addresses, found from each "@" outwards rather than by one regular expression: a long run of
 * local-part characters without an "@" would make a regex retry from every position (quadratic).
 */
const MAX_LOCAL = 64;
const MAX_DOMAIN = 253;

function isLocalChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45;
}

function isDomainChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 46 || c === 45;
}

export const emailDetector: Detector = {
  kinds: ["email"],
  find(text) {
    const findings: Finding[] = [];
    for (let at = text.indexOf("@"); at >= 0; at = text.indexOf("@", at + 1)) {
      let start = at;
      while (start > 0 && at - start < MAX_LOCAL && isLocalChar(text.charCodeAt(start - 1))) start--;
      while (start < at && text[start] === ".") start++;
      let end = at + 1;
      while (end < text.length && end - at <= MAX_DOMAIN && isDomainChar(text.charCodeAt(end))) end++;
      while (end > at + 1 && (text[end - 1] === "." || text[end - 1] === "-")) end--;
      if (start === at || end === at + 1) continue;
      const domain = text.slice(at + 1, end);
      const labels = domain.split(".");
      const tld = labels.at(-1)!;
      if (labels.length < 2 || labels.some((l) => l.length === 0 || l.length > 63) || !/^[A-Za-z]{2,63}$/.test(tld)) continue;
      findings.push({ kind: "email", start, end, validated: false });
    }
    return findings;
  },
};
