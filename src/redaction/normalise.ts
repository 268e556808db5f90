import { composeReadings, identityReading, ReadingBuilder, type Reading } from "./reading.js";

/**
 * The text as a reader takes it, not as it was encoded to slip past the detectors (which read ASCII):
 * - compatibility forms become their plain characters (NFKC: full-width "４１１１" and "＠", ligatures, no-break
 *   spaces), and decimal digits of any script become ASCII digits (a card number in Devanagari digits is still one);
 * - characters that render as nothing are dropped (Unicode's default-ignorable code points: zero-width space,
 *   joiners, word joiner, BOM, soft hyphen, bidirectional controls, variation selectors), so that one inside an
 *   address or a number does not split it;
 * - percent-encoded bytes are decoded ("jane%40example.org", "%E2%80%8B"), a few rounds deep ("%2540"): a text
 *   that carries them was written for or taken from a URL, and the address it spells is the same address.
 * Characters are normalised one at a time, so each keeps its own span of the original; findings in the reading
 * map back to exactly the original characters that spelled them (see Reading).
 */
export function readableText(text: string): Reading {
  if (!MAY_NEED_READING.test(text)) return identityReading(text);
  let reading = unicodeReading(text);
  for (let round = 0; round < PERCENT_ROUNDS; round++) {
    const decoded = percentDecoded(reading.text);
    if (decoded.text === reading.text) break;
    reading = composeReadings(reading, decoded);
    // Decoded bytes may spell full-width or invisible characters in turn.
    reading = composeReadings(reading, unicodeReading(reading.text));
  }
  return reading;
}

/**
 * How detectors read a short text such as one found value: the same text for ASCII without "%" (checked by a plain
 * loop, cheaper than the regular expression on the hot path of placeholders), else its reading.
 */
export function readableForm(value: string): string {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code >= 0x80 || code === 0x25) return readableText(value).text;
  }
  return value;
}

/** Only texts with something beyond ASCII or a percent-encoded byte are rewritten; the rest cost one scan. */
const MAY_NEED_READING = /[^\x00-\x7f]|%[0-9A-Fa-f]{2}/;
const PERCENT_ROUNDS = 3;
const INVISIBLE = /^\p{Default_Ignorable_Code_Point}$/u;
const DECIMAL_DIGIT = /^\p{Nd}$/u;
const NON_ASCII = /[^\x00-\x7f]/;

function unicodeReading(text: string): Reading {
  const builder = new ReadingBuilder(text);
  let copiedUpTo = 0;
  for (let i = 0; i < text.length;) {
    if (text.charCodeAt(i) < 0x80) {
      i++;
      continue;
    }
    const width = text.codePointAt(i)! > 0xffff ? 2 : 1;
    const char = text.slice(i, i + width);
    const read = readChar(char);
    if (read !== char) {
      builder.copy(copiedUpTo, i);
      if (read === "") builder.drop();
      else builder.rewrite(read, i, i + width);
      copiedUpTo = i + width;
    }
    i += width;
  }
  builder.copy(copiedUpTo, text.length);
  return builder.build();
}

/** Non-ASCII characters seen, as read; bounded, since a caller chooses which characters it sends. */
const readChars = new Map<string, string>();
const READ_CHARS_LIMIT = 4096;

function readChar(char: string): string {
  let read = readChars.get(char);
  if (read === undefined) {
    read = INVISIBLE.test(char) ? "" : [...char.normalize("NFKC")].map(asciiDigit).join("");
    if (readChars.size >= READ_CHARS_LIMIT) readChars.clear();
    readChars.set(char, read);
  }
  return read;
}

/**
 * A decimal digit of any script as its ASCII digit. Unicode keeps each script's digits as one run from 0 to 9
 * (some runs adjacent), so a digit's value is how many digits precede it in its run of runs, modulo 10.
 */
function asciiDigit(char: string): string {
  if (!NON_ASCII.test(char) || !DECIMAL_DIGIT.test(char)) return char;
  const code = char.codePointAt(0)!;
  let before = 0;
  while (DECIMAL_DIGIT.test(String.fromCodePoint(code - before - 1))) before++;
  return String(before % 10);
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function percentDecoded(text: string): Reading {
  const builder = new ReadingBuilder(text);
  let copiedUpTo = 0;
  for (let at = text.indexOf("%"); at >= 0; at = text.indexOf("%", at)) {
    const decoded = encodedCharAt(text, at);
    if (decoded === undefined) {
      at++;
      continue;
    }
    builder.copy(copiedUpTo, at);
    builder.rewrite(decoded.char, at, decoded.end);
    copiedUpTo = at = decoded.end;
  }
  builder.copy(copiedUpTo, text.length);
  return builder.build();
}

/** The character that percent-encoded UTF-8 bytes at `at` spell ("%40", "%C3%A9"), if they spell one. */
function encodedCharAt(text: string, at: number): { char: string; end: number } | undefined {
  const lead = byteAt(text, at);
  if (lead === undefined) return undefined;
  const length = lead < 0x80 ? 1 : lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
  if (length === 0) return undefined;
  const bytes = new Uint8Array(length);
  bytes[0] = lead;
  for (let i = 1; i < length; i++) {
    const next = byteAt(text, at + 3 * i);
    if (next === undefined) return undefined;
    bytes[i] = next;
  }
  try {
    return { char: utf8.decode(bytes), end: at + 3 * length };
  } catch {
    return undefined; // not UTF-8 (a stray continuation byte, an overlong form): left as written
  }
}

function byteAt(text: string, at: number): number | undefined {
  if (text.charCodeAt(at) !== 0x25 || !/^[0-9A-Fa-f]{2}$/.test(text.slice(at + 1, at + 3))) return undefined;
  return parseInt(text.slice(at + 1, at + 3), 16);
}
