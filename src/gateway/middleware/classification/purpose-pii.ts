import { detectPii } from "../../../redaction/index.js";

/** Digits, possibly grouped by single separators: "4145-7806-2591-1180", "442079460958". */
const NUMERIC_STRETCH = /\d(?:[._-]?\d)*/g;
const SEPARATORS = /[._-]/g;

/**
 * Whether a purpose (a name of letters, digits, ".", "_" and "-") reads as PII. The detectors look for values that
 * stand alone in prose, and a name glues them to letters and separators ("p4145780625911180", "tel.442079460958"),
 * so it is checked in the forms a reader would see in it: as written, with its separators read as spaces (also
 * upper-cased, as IBANs are written), and each stretch of digits alone — as written, grouped by spaces, run
 * together, and with the "+" an international phone number is written with. Meant for names people choose: on
 * random identifiers (UUIDs) the digit forms find a valid phone or NHS number in about one in twenty-five.
 */
export function purposeReadsAsPii(purpose: string): boolean {
  const spaced = purpose.replace(SEPARATORS, " ");
  const forms = [purpose, spaced, spaced.toUpperCase()];
  for (const stretch of purpose.match(NUMERIC_STRETCH) ?? []) {
    const digits = stretch.replace(SEPARATORS, "");
    forms.push(stretch, stretch.replace(SEPARATORS, " "), digits, `+${digits}`);
  }
  return forms.some((form) => detectPii(form).length > 0);
}
