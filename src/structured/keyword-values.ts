import { MAX_REPETITIONS } from "./grammar-limits.js";
import type { NumericBounds } from "./scalar-grammars.js";
import { UnsupportedSchemaError } from "./unsupported-schema-error.js";

/** A non-negative integer keyword such as maxLength, or undefined when absent. */
export function readCount(schema: Record<string, unknown>, keyword: string, pointer: string): number | undefined {
  const value = schema[keyword];
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new UnsupportedSchemaError(pointer, keyword, "must be a non-negative integer");
  }
  return value;
}

/** A finite number keyword such as minimum, or undefined when absent. */
function readNumber(schema: Record<string, unknown>, keyword: string, pointer: string): number | undefined {
  const value = schema[keyword];
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new UnsupportedSchemaError(pointer, keyword, "must be a number");
  }
  return value;
}

/** Length or item-count bounds: a default cap when the schema sets none, and never beyond what llama.cpp accepts. */
export function lengthRange(
  schema: Record<string, unknown>,
  pointer: string,
  minKeyword: string,
  maxKeyword: string,
  defaultMax: number,
): { min: number; max: number } {
  const min = readCount(schema, minKeyword, pointer) ?? 0;
  const declaredMax = readCount(schema, maxKeyword, pointer);
  if (declaredMax !== undefined && min > declaredMax) {
    throw new UnsupportedSchemaError(pointer, minKeyword, `${min} is more than ${maxKeyword} ${declaredMax}`);
  }
  if (min > MAX_REPETITIONS) {
    const reason = `llama.cpp grammars cannot repeat anything more than ${MAX_REPETITIONS} times`;
    throw new UnsupportedSchemaError(pointer, minKeyword, reason);
  }
  return { min, max: Math.min(declaredMax ?? Math.max(min, defaultMax), MAX_REPETITIONS) };
}

/** Inclusive bounds from minimum/maximum and their exclusive forms; for integers, rounded inwards to whole numbers. */
export function numericBounds(schema: Record<string, unknown>, pointer: string, whole: boolean): NumericBounds {
  const read = (keyword: string) => readNumber(schema, keyword, pointer);
  const round = (value: number | undefined, toWhole: (value: number) => number) =>
    value === undefined || !whole ? value : toWhole(value);
  const lower = tightest(Math.max, [
    round(read("minimum"), Math.ceil),
    round(read("exclusiveMinimum"), (value) => Math.floor(value) + 1),
  ]);
  const upper = tightest(Math.min, [
    round(read("maximum"), Math.floor),
    round(read("exclusiveMaximum"), (value) => Math.ceil(value) - 1),
  ]);
  if (lower !== undefined && upper !== undefined && lower > upper) {
    const keyword = "minimum" in schema ? "minimum" : "exclusiveMinimum";
    throw new UnsupportedSchemaError(pointer, keyword, `no ${whole ? "integer" : "number"} lies within the bounds`);
  }
  return { lower, upper };
}

function tightest(pick: (...values: number[]) => number, bounds: Array<number | undefined>): number | undefined {
  const defined = bounds.filter((bound): bound is number => bound !== undefined);
  return defined.length === 0 ? undefined : pick(...defined);
}
