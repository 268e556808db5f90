import { seededRng, type Rng } from "../../../src/util/rng.js";
import type { EvalItem, EvalKind } from "./types.js";

export type Split = EvalItem["split"];

/** Seeds from this one up generate holdout items; seeds below it generate tune items. */
export const HOLDOUT_SEED_FLOOR = 100;
export const DEFAULT_TUNE_SEEDS: readonly number[] = [1, 2, 3];
export const DEFAULT_HOLDOUT_SEEDS: readonly number[] = [101, 102, 103];

export function splitOfSeed(seed: number): Split {
  if (!Number.isSafeInteger(seed) || seed < 1) throw new RangeError(`a seed is a positive integer, got ${seed}`);
  return seed >= HOLDOUT_SEED_FLOOR ? "holdout" : "tune";
}

/**
 * Vocabulary written in two fixed parts. Tune items are built only from `tune`, holdout items only from `holdout`,
 * so exemplars or adapters fitted on tune items cannot carry a holdout answer over.
 */
export interface SplitList<T> {
  readonly tune: readonly T[];
  readonly holdout: readonly T[];
}

/**
 * What only holdout items contain, for the split test and the report: each holdout entry's longest stretch of
 * literal text ("Honestly, {subject} {phrase}." → "Honestly,"; a plain word is itself).
 */
export function heldOutMarkers(...lists: ReadonlyArray<SplitList<string>>): string[] {
  const longestLiteral = (entry: string) =>
    entry
      .split(/\{\w+\}/)
      .map((part) => part.trim())
      .reduce((longest, part) => (part.length > longest.length ? part : longest), "");
  return [...new Set(lists.flatMap((list) => list.holdout.map(longestLiteral)))];
}

/** The ids the runner and the reports key on: `${kind}-s${seed}-${three-digit index}`. */
export function itemId(kind: EvalKind, seed: number, index: number): string {
  return `${kind}-s${seed}-${String(index).padStart(3, "0")}`;
}

/** FNV-1a: a stable 32-bit hash of a string, to give each kind its own random stream for the same seed. */
export function stableHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}

/** Seeded choices for one kind and seed. Items are drawn in index order, so a longer run extends a shorter one. */
export class Draw {
  private readonly rng: Rng;

  constructor(kind: EvalKind, seed: number) {
    this.rng = seededRng((stableHash(kind) ^ seed) >>> 0);
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.rng() * (max - min + 1));
  }

  pick<T>(list: readonly T[]): T {
    if (list.length === 0) throw new RangeError("cannot pick from an empty list");
    return list[this.int(0, list.length - 1)]!;
  }

  shuffled<T>(list: readonly T[]): T[] {
    const copy = [...list];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [copy[i], copy[j]] = [copy[j]!, copy[i]!];
    }
    return copy;
  }
}

/** Fills `{name}` slots; a slot without a value is a bug in a template, so it throws rather than leaving braces. */
export function fill(template: string, values: Readonly<Record<string, string | number>>): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`template slot {${name}} has no value: ${template}`);
    return String(value);
  });
}

export function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** A few-shot prompt of `Label: value` blocks, ending with the query block open where the answer starts. */
export function fewShotPrompt(header: string, examples: readonly string[], query: string): string {
  return [header, ...examples, query].filter((part) => part !== "").join("\n\n");
}

/**
 * The words of a text for comparison: accents removed, lower case, anything but letters and digits a separator.
 * "São Tomé!" → ["sao", "tome"].
 */
export function comparableWords(text: string): string[] {
  return text
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word !== "");
}

/** Whether the words contain the phrase as consecutive whole words ("buenos aires" in "it is buenos aires"). */
export function containsPhrase(words: readonly string[], phrase: string): boolean {
  const wanted = comparableWords(phrase);
  if (wanted.length === 0) return false;
  return words.some((_, start) => wanted.every((word, offset) => words[start + offset] === word));
}

/** An answer quoted for a check's detail, cut short so a rambling answer does not flood the report. */
export function quoted(answer: string, limit = 60): string {
  const oneLine = answer.trim().replace(/\s+/g, " ");
  return JSON.stringify(oneLine.length > limit ? `${oneLine.slice(0, limit)}…` : oneLine);
}
