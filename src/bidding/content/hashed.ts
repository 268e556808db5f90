import type { BiddingRequest } from "../request.js";
import type { ContentFeaturizer, ContentVector } from "./interface.js";

/**
 * Hashed n-grams of the request's text (the "hashing trick", Weinberger et al. 2009): word unigrams and bigrams and
 * character n-grams of the lower-cased text, each hashed to an index in a fixed power-of-two space with a hashed
 * sign (so collisions cancel on average instead of adding up), counted, damped (1 + ln tf) and L2-normalised per
 * block. No vocabulary: nothing to download, nothing to fit, the same vector on every machine for the same text.
 *
 * Why these: words say the subject ("mitochondria", "tort", "derivative") and bigrams the ask ("prove that",
 * "how many"); character n-grams carry morphology and rare or misspelt words that a word hash sees once. Digits are
 * read as 0, so "17 apples" and "42 apples" share their features and a number's length still shows.
 *
 * Bounded: words are read from the head of the text (`wordChars`), character n-grams from a shorter head
 * (`charChars`), instructions from theirs; a megabyte prompt costs what its head costs. One scratch accumulator
 * of the space's size is reused across calls (the featurizer is not re-entrant, and needs none: decide() is
 * synchronous).
 */
export interface HashedNgramOptions {
  /** log2 of the index space. Default 18 (262,144 indices). */
  bits?: number;
  /** Characters of the text read for word n-grams. Default 2048. */
  wordChars?: number;
  /** Characters of the text read for character n-grams. Default 512. */
  charChars?: number;
  /** Characters of the instructions (system prompt) read, words only. Default 512. */
  instructionChars?: number;
  /** Character n-gram lengths, inclusive. Default [3, 5]; [0, 0] turns them off. */
  charRange?: readonly [number, number];
  /** Weight of the character block relative to the word block (each is unit length before it). Default 0.5. */
  charWeight?: number;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
// Namespaces: the same string as a word, a bigram half, an instruction word or a character n-gram hashes apart.
const SEED_WORD = 0x9e3779b1;
const SEED_BIGRAM = 0x85ebca77;
const SEED_INSTRUCTION = 0xc2b2ae3d;
const SEED_CHAR = 0x27d4eb2f;

export const HASHED_LAYOUT_VERSION = 1;

export class HashedNgramFeaturizer implements ContentFeaturizer {
  readonly layout: string;
  readonly dimension: number;
  readonly needsEmbedding = false;
  private readonly mask: number;
  private readonly wordChars: number;
  private readonly charChars: number;
  private readonly instructionChars: number;
  private readonly charMin: number;
  private readonly charMax: number;
  private readonly charWeight: number;
  /** Signed counts per index, and the call that last touched each index (so nothing needs clearing). */
  private readonly counts: Float32Array;
  private readonly stamp: Int32Array;
  private generation = 0;
  private touched: Int32Array = new Int32Array(1024);
  private touchedCount = 0;
  /** Where the word features touched by this call first occurred (for describe). */
  private wordIndex: Int32Array = new Int32Array(256);
  private wordStart: Int32Array = new Int32Array(256);
  private wordEnd: Int32Array = new Int32Array(256);
  private wordCount = 0;

  constructor(options: HashedNgramOptions = {}) {
    const bits = options.bits ?? 18;
    if (!Number.isInteger(bits) || bits < 8 || bits > 24) throw new RangeError("hashed features: bits must be an integer from 8 to 24");
    this.dimension = 1 << bits;
    this.mask = this.dimension - 1;
    this.wordChars = options.wordChars ?? 2048;
    this.charChars = options.charChars ?? 512;
    this.instructionChars = options.instructionChars ?? 512;
    [this.charMin, this.charMax] = options.charRange ?? [3, 5];
    this.charWeight = options.charWeight ?? 0.5;
    this.counts = new Float32Array(this.dimension);
    this.stamp = new Int32Array(this.dimension);
    this.layout = `hashed-ngrams/${HASHED_LAYOUT_VERSION}:b${bits}:w${this.wordChars}:c${this.charMin}-${this.charMax}@${this.charChars}x${this.charWeight}:i${this.instructionChars}`;
  }

  featurize(request: BiddingRequest): ContentVector {
    this.generation = this.generation === 0x7fffffff ? 1 : this.generation + 1;
    if (this.generation === 1) this.stamp.fill(0);
    this.touchedCount = 0;
    this.wordCount = 0;
    const text = lowerHead(request.text, Math.max(this.wordChars, this.charChars));
    const instructions = request.instructions === undefined ? "" : lowerHead(request.instructions, this.instructionChars);

    this.words(text, this.wordChars, SEED_WORD, true);
    const termCount = this.touchedCount;
    if (instructions !== "") this.words(instructions, instructions.length, SEED_INSTRUCTION, false);
    const wordsEnd = this.touchedCount;
    if (this.charMax > 0) this.chars(text);

    const n = this.touchedCount;
    const touched = this.touched;
    const counts = this.counts;
    const indices = new Int32Array(n);
    const values = new Float32Array(n);
    let wordNorm = 0;
    let charNorm = 0;
    for (let i = 0; i < n; i++) {
      const index = touched[i]!;
      const v = damped(counts[index]!);
      indices[i] = index;
      values[i] = v;
      if (i < wordsEnd) wordNorm += v * v;
      else charNorm += v * v;
    }
    // Each block has unit length, then the character block is weighted and the whole brought back to unit length,
    // so the learner's step sizes do not depend on the prompt's length.
    const total = Math.sqrt((wordNorm > 0 ? 1 : 0) + (charNorm > 0 ? this.charWeight * this.charWeight : 0)) || 1;
    const wordScale = wordNorm > 0 ? 1 / Math.sqrt(wordNorm) / total : 0;
    const charScale = charNorm > 0 ? this.charWeight / Math.sqrt(charNorm) / total : 0;
    for (let i = 0; i < n; i++) values[i] = values[i]! * (i < wordsEnd ? wordScale : charScale);

    const source = text;
    const wordIndex = this.wordIndex.slice(0, this.wordCount);
    const wordStart = this.wordStart.slice(0, this.wordCount);
    const wordEnd = this.wordEnd.slice(0, this.wordCount);
    return {
      indices,
      values,
      termCount,
      describe: (index: number) => {
        for (let i = 0; i < wordIndex.length; i++) if (wordIndex[i] === index) return source.slice(wordStart[i], wordEnd[i]);
        return undefined;
      },
    };
  }

  /**
   * Word unigrams and bigrams: runs of letters and digits (any non-ASCII character counts as a letter). With
   * `describe`, where each feature first occurred is kept, for decision records.
   */
  private words(text: string, limit: number, seed: number, describe: boolean): void {
    const end = Math.min(text.length, limit);
    let previous = 0;
    let previousStart = -1;
    let i = 0;
    while (i < end) {
      let c = text.charCodeAt(i);
      if (!((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c > 127)) {
        i++;
        continue;
      }
      const start = i;
      let h = FNV_OFFSET ^ seed;
      for (; i < end; i++) {
        c = text.charCodeAt(i);
        if (c >= 97 && c <= 122) h = Math.imul(h ^ c, FNV_PRIME);
        else if (c >= 48 && c <= 57) h = Math.imul(h ^ 48, FNV_PRIME);
        else if (c > 127) h = Math.imul(h ^ c, FNV_PRIME);
        else break;
      }
      const unigram = this.add(h);
      if (describe && unigram >= 0) this.remember(unigram, start, i);
      if (previousStart >= 0) {
        const bigram = this.add(Math.imul(previous ^ SEED_BIGRAM, FNV_PRIME) ^ Math.imul(h, 0x5bd1e995));
        if (describe && bigram >= 0) this.remember(bigram, previousStart, i);
      }
      previous = h;
      previousStart = start;
    }
  }

  /** Character n-grams of the text's head, whitespace read as a space and digits as 0. The hot loop: all local. */
  private chars(text: string): void {
    const end = Math.min(text.length, this.charChars);
    const min = this.charMin;
    const max = this.charMax;
    const mask = this.mask;
    const stamp = this.stamp;
    const counts = this.counts;
    const generation = this.generation;
    let touched = this.touched;
    let count = this.touchedCount;
    for (let i = 0; i + min <= end; i++) {
      let h = FNV_OFFSET ^ SEED_CHAR;
      const stop = Math.min(end, i + max);
      for (let k = i; k < stop; k++) {
        let c = text.charCodeAt(k);
        if (c === 9 || c === 10 || c === 13) c = 32;
        else if (c >= 48 && c <= 57) c = 48;
        h = Math.imul(h ^ c, FNV_PRIME);
        if (k - i + 1 < min) continue;
        const mixed = fmix32(h ^ (k - i));
        const index = mixed & mask;
        const sign = mixed < 0 ? -1 : 1;
        if (stamp[index] !== generation) {
          stamp[index] = generation;
          counts[index] = sign;
          if (count === touched.length) touched = grow(touched);
          touched[count++] = index;
        } else {
          counts[index]! += sign;
        }
      }
    }
    this.touched = touched;
    this.touchedCount = count;
  }

  /** Counts one occurrence of a hashed feature; returns its index when this call touched it first, else -1. */
  private add(hash: number): number {
    const h = fmix32(hash);
    const index = h & this.mask;
    if (this.stamp[index] === this.generation) {
      this.counts[index]! += h < 0 ? -1 : 1;
      return -1;
    }
    this.stamp[index] = this.generation;
    this.counts[index] = h < 0 ? -1 : 1;
    if (this.touchedCount === this.touched.length) this.touched = grow(this.touched);
    this.touched[this.touchedCount++] = index;
    return index;
  }

  private remember(index: number, start: number, end: number): void {
    if (this.wordCount === this.wordIndex.length) {
      this.wordIndex = grow(this.wordIndex);
      this.wordStart = grow(this.wordStart);
      this.wordEnd = grow(this.wordEnd);
    }
    this.wordIndex[this.wordCount] = index;
    this.wordStart[this.wordCount] = start;
    this.wordEnd[this.wordCount] = end;
    this.wordCount++;
  }
}

/** 1 + ln|count|, signed; counts are small integers, so the common ones come from a table. */
const DAMPED = Float32Array.from({ length: 64 }, (_, c) => (c === 0 ? 0 : 1 + Math.log(c)));
function damped(count: number): number {
  const magnitude = count < 0 ? -count : count;
  const v = magnitude < 64 ? DAMPED[magnitude]! : 1 + Math.log(magnitude);
  return count < 0 ? -v : v;
}

function lowerHead(text: string, limit: number): string {
  return (text.length > limit ? text.slice(0, limit) : text).toLowerCase();
}

/** MurmurHash3's finaliser: every input bit affects every output bit, so low bits index and the top bit signs. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

function grow(array: Int32Array): Int32Array {
  const bigger = new Int32Array(array.length * 2);
  bigger.set(array);
  return bigger;
}
