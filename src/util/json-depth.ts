/**
 * Whether JSON text nests objects and arrays more than `maxDepth` levels deep (`[]` is one level, `[[]]` two),
 * found in one pass over the text without parsing it, so that a body can be refused before anything recursive
 * (zod, JSON.stringify, the redactor, ajv) walks it and runs out of stack. Brackets inside strings do not count.
 * Text that is not JSON is answered as JSON would nest it as far as it goes; its parser refuses the rest.
 */
export function jsonDepthExceeds(text: string, maxDepth: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (char === QUOTE) {
      for (i++; i < text.length && text.charCodeAt(i) !== QUOTE; i++) if (text.charCodeAt(i) === BACKSLASH) i++;
    } else if (char === OPEN_BRACE || char === OPEN_BRACKET) {
      if (++depth > maxDepth) return true;
    } else if (char === CLOSE_BRACE || char === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
