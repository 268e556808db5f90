import { emailDetector } from "./detectors/email.js";
import { ibanDetector } from "./detectors/iban.js";
import { ipDetector } from "./detectors/ip.js";
import { nationalIdDetector } from "./detectors/national-ids.js";
import { numberDetector } from "./detectors/numbers.js";
import { phoneDetector } from "./detectors/phone.js";
import type { DetectOptions, Detector, Finding, PiiDetector } from "./interface.js";
import { PII_KINDS, type PiiKind } from "./kinds.js";
import { readableText } from "./normalise.js";

const DETECTORS: readonly Detector[] = [emailDetector, ibanDetector, numberDetector, nationalIdDetector, ipDetector, phoneDetector];
export const DEFAULT_PHONE_REGIONS: readonly string[] = ["US", "GB", "DE", "FR"];

/**
 * When findings overlap, the longer wins: it hides everything the shorter would ("+1 415 555 2671" rather than the
 * NHS-valid "415 555 2671" inside it, an IBAN rather than a Luhn-valid run inside it). Between equal spans the kind
 * checked more strictly wins: "943 476 5919" is both a valid NHS number and a valid US phone number.
 */
const PRECEDENCE: readonly PiiKind[] = ["iban", "credit_card", "fr_nir", "de_tax_id", "es_dni", "uk_nhs", "email", "us_ssn", "ipv6", "ipv4", "phone"];
const RANK = new Map(PRECEDENCE.map((kind, i) => [kind, i]));

/**
 * Every PII span in `text`, without overlaps, in text order. Linear in the length of the text. The detectors read
 * the text normalised (readableText: full-width forms, invisible characters, percent-encoding); the spans are the
 * original text's, covering every character that spelled the value.
 */
export function detectPii(text: string, options: DetectOptions = {}): Finding[] {
  const resolved: Required<DetectOptions> = { kinds: options.kinds ?? PII_KINDS, phoneRegions: options.phoneRegions ?? DEFAULT_PHONE_REGIONS };
  const reading = readableText(text);
  const candidates: Finding[] = [];
  for (const detector of DETECTORS) {
    if (!detector.kinds.some((kind) => resolved.kinds.includes(kind))) continue;
    for (const finding of detector.find(reading.text, resolved)) if (resolved.kinds.includes(finding.kind)) candidates.push(finding);
  }
  const findings = settleOverlaps(candidates, reading.text.length);
  if (reading.text === text) return findings;
  return findings.map((finding) => ({ ...finding, ...reading.originalSpan(finding.start, finding.end) }));
}

export const patternDetector: PiiDetector = { detect: detectPii };

function settleOverlaps(candidates: Finding[], length: number): Finding[] {
  if (candidates.length < 2) return candidates;
  candidates.sort((a, b) => (b.end - b.start) - (a.end - a.start) || RANK.get(a.kind)! - RANK.get(b.kind)! || a.start - b.start);
  // Characters already claimed, marked one by one: findings are short, so this stays linear in the text.
  const claimed = new Uint8Array(length);
  const accepted: Finding[] = [];
  for (const candidate of candidates) {
    let free = true;
    for (let i = candidate.start; i < candidate.end && free; i++) free = claimed[i] === 0;
    if (!free) continue;
    claimed.fill(1, candidate.start, candidate.end);
    accepted.push(candidate);
  }
  return accepted.sort((a, b) => a.start - b.start);
}
