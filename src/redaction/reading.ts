/**
 * A text as detectors read it, rewritten from an original, where every character remembers the span of the
 * original it stands for: a finding in the reading maps back to exactly the original characters that spelled it,
 * so redaction replaces all of them and nothing beside them.
 */
export interface Reading {
  readonly text: string;
  /** The original span that the reading's span [start, end) was read from (end exclusive, non-empty spans). */
  originalSpan(start: number, end: number): { start: number; end: number };
}

/** The original itself: nothing to rewrite. */
export function identityReading(text: string): Reading {
  return { text, originalSpan: (start, end) => ({ start, end }) };
}

/**
 * Builds a reading from pieces in source order: runs copied as they are, and rewritten pieces, each of whose
 * characters stands for the whole source span it replaces. Source characters in neither are dropped. Kept as
 * pieces, not one entry per character, so that a long text with a few rewrites costs a few entries.
 */
export class ReadingBuilder {
  private text = "";
  /** Per piece: where it starts in the reading, the source span it came from, and whether it is a verbatim copy. */
  private readonly readingStarts: number[] = [];
  private readonly sourceStarts: number[] = [];
  private readonly sourceEnds: number[] = [];
  private readonly verbatim: boolean[] = [];
  private rewritten = false;

  constructor(private readonly source: string) {}

  copy(start: number, end: number): void {
    if (start < end) this.push(this.source.slice(start, end), start, end, true);
  }

  /** `chars` stand for source[start, end). */
  rewrite(chars: string, start: number, end: number): void {
    this.rewritten = true;
    if (chars.length > 0) this.push(chars, start, end, false);
  }

  /** Source characters that read as nothing (rewritten to no characters). */
  drop(): void {
    this.rewritten = true;
  }

  /** The reading; the source's identity when nothing was rewritten. */
  build(): Reading {
    if (!this.rewritten) return identityReading(this.source);
    const { readingStarts, sourceStarts, sourceEnds, verbatim } = this;
    const pieceAt = (offset: number): number => {
      let low = 0;
      let high = readingStarts.length - 1;
      while (low < high) {
        const middle = (low + high + 1) >> 1;
        if (readingStarts[middle]! <= offset) low = middle;
        else high = middle - 1;
      }
      return low;
    };
    return {
      text: this.text,
      originalSpan: (start, end) => {
        const first = pieceAt(start);
        const last = pieceAt(end - 1);
        return {
          start: verbatim[first] ? sourceStarts[first]! + start - readingStarts[first]! : sourceStarts[first]!,
          end: verbatim[last] ? sourceStarts[last]! + end - readingStarts[last]! : sourceEnds[last]!,
        };
      },
    };
  }

  private push(chars: string, start: number, end: number, verbatim: boolean): void {
    this.readingStarts.push(this.text.length);
    this.sourceStarts.push(start);
    this.sourceEnds.push(end);
    this.verbatim.push(verbatim);
    this.text += chars;
  }
}

/** A reading of a reading, mapped back to the first one's original. */
export function composeReadings(outer: Reading, inner: Reading): Reading {
  // Rewrites always change the text: an unchanged text is the identity.
  if (inner.text === outer.text) return outer;
  return {
    text: inner.text,
    originalSpan: (start, end) => {
      const middle = inner.originalSpan(start, end);
      return outer.originalSpan(middle.start, middle.end);
    },
  };
}
