import { ReadingBuilder, type Reading } from "./reading.js";

/**
 * A regular expression (a JSON Schema "pattern") read for the literal text it spells: "^jane\.doe@example\.org$"
 * is the address it matches. An escaped punctuation character is that character; the rest is read as written,
 * since anchors, classes and quantifiers spell nothing a detector takes for PII. A value spelled some other way
 * ("[j]ane", "4111 ?1111…") is not read as that value.
 */
export function patternReading(pattern: string): Reading {
  const builder = new ReadingBuilder(pattern);
  let copiedUpTo = 0;
  for (let at = pattern.indexOf("\\"); at >= 0 && at + 1 < pattern.length; at = pattern.indexOf("\\", at)) {
    if (/[0-9A-Za-z]/.test(pattern[at + 1]!)) {
      at += 2; // \d, \w, \1 …: a class or a reference, not a literal character
      continue;
    }
    builder.copy(copiedUpTo, at);
    builder.rewrite(pattern[at + 1]!, at, at + 2);
    copiedUpTo = at = at + 2;
  }
  builder.copy(copiedUpTo, pattern.length);
  return builder.build();
}

/**
 * Text that a pattern matches literally: "[EMAIL_1]" as "\[EMAIL_1\]". Only syntax characters are escaped, the
 * escapes valid in a Unicode-mode pattern (as ajv compiles them).
 */
export function escapeForPattern(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|]/g, "\\$&");
}
