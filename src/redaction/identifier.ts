import { detectPii } from "./detect.js";

/** Digits, possibly grouped by single separators: "4145-7806-2591-1180", "442079460958". */
const NUMERIC_STRETCH = /\d(?:[._-]?\d)*/g;
const SEPARATORS = /[._-]/g;

/**
 * Whether a name a caller chooses (letters, digits, ".", "_" and "-": a purpose, a task label, a schema name) reads
 * as PII. Such names are kept as they are — in execution rows, audit events that are never rewritten, and what
 * erasure keeps — so one that spells an IBAN or a card number must be refused, not stored. The detectors look for
 * values that stand alone in prose, and a name glues them to letters and separators ("p4145780625911180",
 * "tel.442079460958"), so it is checked in the forms a reader would see in it: as written, with its separators read
 * as spaces (also upper-cased, as IBANs are written), and each stretch of digits alone — as written, grouped by
 * spaces, run together, and with the "+" an international phone number is written with. Meant for names people
 * choose: on random identifiers (UUIDs) the digit forms find a valid phone or NHS number in about one in twenty-five.
 */
export function identifierReadsAsPii(name: string): boolean {
  const spaced = name.replace(SEPARATORS, " ");
  const forms = [name, spaced, spaced.toUpperCase()];
  for (const stretch of name.match(NUMERIC_STRETCH) ?? []) {
    const digits = stretch.replace(SEPARATORS, "");
    forms.push(stretch, stretch.replace(SEPARATORS, " "), digits, `+${digits}`);
  }
  return forms.some((form) => detectPii(form).length > 0);
}

/** What a refusal of such a name says, after the parameter's name. */
export const IDENTIFIER_PII_MESSAGE = "reads as personal data (a card, account, phone or identity number): names are kept in records and audit events as they are, so they must not hold PII";
