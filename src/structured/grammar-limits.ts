/**
 * Bounds the grammar applies where a schema sets none, so that every grammar has a finite longest output and the
 * gateway can always pick a token budget that generation cannot run out of inside the JSON.
 */
export const DEFAULT_MAX_STRING_LENGTH = 256;
export const DEFAULT_MAX_ITEMS = 16;
/** 15 digits keep every integer the grammar allows below Number.MAX_SAFE_INTEGER. */
export const MAX_INTEGER_DIGITS = 15;
export const MAX_FRACTION_DIGITS = 6;
/**
 * Nesting of objects and arrays in a schema document. Deeper documents overflow the stack of ajv's recursive
 * validation (at about 1,000 levels), and no schema meant for generation comes close.
 */
export const MAX_SCHEMA_DEPTH = 64;
/**
 * llama.cpp refuses a grammar with a repetition of 2000 or more ("exceeds sane defaults"), so larger maxLength and
 * maxItems are lowered to this; shorter output still satisfies the schema.
 */
export const MAX_REPETITIONS = 1999;
