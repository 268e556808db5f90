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
/**
 * What one schema may list: values of its enums and consts, counted over the whole document, and what one place of
 * it can produce (a union's alternatives' listed values together). Schemas come from callers and compile on the
 * event loop every request shares: 140,000 values (a 1 MiB body) took a second to compile and validate, and a
 * oneOf of 3,000 constants overflowed ajv's stack.
 */
export const MAX_LISTED_VALUES = 10_000;
/**
 * Object properties declared in one schema, counted over the whole document: ajv compiles a validator at ~0.4 ms a
 * property (20,000 of them, in a body under the 1 MiB limit, took 6 s).
 */
export const MAX_DECLARED_PROPERTIES = 1_000;
/** The alternatives of one anyOf or oneOf (ajv's oneOf code grows faster than linearly: 256 took ~150 ms). */
export const MAX_ALTERNATIVES = 128;
