import { InvalidArgumentError } from "commander";

/**
 * Parsers for option values, run by commander as it reads the command line: a bad value is refused there, with
 * the option's name and the command's usage (exit 2), before any command module is loaded.
 */

/** `--scopes a,b`: the items of a comma-separated list, trimmed; empty items are dropped, an empty list refused. */
export function commaList(value: string): string[] {
  const items = value.split(",").map((item) => item.trim()).filter((item) => item !== "");
  if (items.length === 0) throw new InvalidArgumentError("give one or more, separated by commas");
  return items;
}

/** A repeatable option (`--key a --key b`): every value, in order. */
export function repeatable(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** A number of zero or more (`--parallel`, `--cost-prompt`). */
export function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError("must be a non-negative number");
  return n;
}

/** A whole number of zero or more, digits only (`--previous-size`, `--seed`). */
export function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError("must be a whole number");
  return Number(value);
}
