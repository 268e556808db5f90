/**
 * How much a JSON text would cost to parse, read without parsing it: JSON.parse of 8 MiB of "[[[[…" or "[{},{},…"
 * builds millions of objects (hundreds of MB) before anything can refuse it, and the verifier promises to stay
 * under 256 MB whatever it is given. Bundled into audit/verify.mjs: no imports.
 */

/** No event nests this deep: JSON.stringify gives up near 4,000 levels, so no such leaf was ever logged. */
export const MAX_LEAF_NESTING = 100_000;
/**
 * Arrays, objects and commas outside strings in one leaf: at this many, the costliest shape (one object of that many
 * members) takes the verifier to ~140 MB; an event comes nowhere near (8 MiB over this many is 32 bytes a value).
 */
export const MAX_LEAF_VALUES = 250_000;
/** Below this many bytes a leaf cannot reach either limit's cost, and is not scanned (the verifier's speed). */
export const SCAN_MIN_BYTES = 64 * 1024;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;
const COMMA = 0x2c;

/**
 * Why the JSON text in `bytes` (UTF-8, whose multi-byte characters hold no ASCII byte) is too costly to parse: it
 * nests arrays and objects deeper than `limits.nesting`, or holds more than `limits.values` arrays, objects and
 * commas outside strings. Undefined when it is within both (it may still be no JSON at all: JSON.parse decides).
 * The reason reads after "the text".
 */
export function jsonShapeProblem(bytes: Uint8Array, limits: { nesting: number; values: number }): string | undefined {
  let depth = 0;
  let values = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (inString) {
      if (byte === BACKSLASH) i += 1;
      else if (byte === QUOTE) inString = false;
      continue;
    }
    if (byte === QUOTE) {
      inString = true;
    } else if (byte === OPEN_ARRAY || byte === OPEN_OBJECT) {
      depth += 1;
      values += 1;
      if (depth > limits.nesting) return `nests arrays and objects deeper than ${limits.nesting} levels`;
    } else if (byte === CLOSE_ARRAY || byte === CLOSE_OBJECT) {
      depth -= 1;
    } else if (byte === COMMA) {
      values += 1;
    }
    if (values > limits.values) return `holds more than ${limits.values} arrays, objects and commas`;
  }
  return undefined;
}

/** jsonShapeProblem with the leaf limits, for leaves long enough to matter; the reason reads after "the leaf". */
export function leafShapeProblem(leaf: Uint8Array): string | undefined {
  if (leaf.length < SCAN_MIN_BYTES) return undefined;
  const problem = jsonShapeProblem(leaf, { nesting: MAX_LEAF_NESTING, values: MAX_LEAF_VALUES });
  return problem === undefined ? undefined : `${problem}: no event does, and parsing it would take more memory than the verifier allows`;
}
