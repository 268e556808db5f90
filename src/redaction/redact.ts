import { detectPii } from "./detect.js";
import type { DetectOptions, Finding, PiiDetector } from "./interface.js";
import { PLACEHOLDER_LABELS, type PiiKind } from "./kinds.js";
import { readableForm } from "./normalise.js";
import { escapeForPattern, patternReading } from "./pattern.js";

export interface RedactOptions extends DetectOptions {
  /** Defaults to the pattern-and-checksum detector (detectPii). */
  detector?: PiiDetector;
}

export interface Redaction {
  text: string;
  /** Spans in the original text (no values). */
  findings: Finding[];
  /** The kinds found, for the policy context (piiKinds). */
  kinds: PiiKind[];
  /** Puts the originals back in place of this request's placeholders in a model's output; only where policy allows. */
  restore(output: string): string;
}

const PLACEHOLDER = /\[([A-Z][A-Z0-9_]*)_(\d+)\]/g;
/** Longest placeholder a stream may have to hold back: "[DE_TAX_ID_" plus digits and "]". */
const MAX_PLACEHOLDER = 24;

/**
 * One request's redactions: the same value always gets the same placeholder ([EMAIL_1] wherever that address
 * occurs, in the prompt and in every message), so the model can still tell values apart and refer to them, and
 * restore() can put each one back. The originals stay in this object only, for the request's lifetime.
 */
export class Redactor {
  private readonly byValue = new Map<string, string>();
  private readonly originals = new Map<string, string>();
  private readonly counters = new Map<PiiKind, number>();
  private readonly kindsFound = new Set<PiiKind>();
  /** Placeholders the request holds (see reserve), never issued for a value here. */
  private readonly reserved = new Set<string>();
  private readonly detector: PiiDetector;

  constructor(private readonly options: RedactOptions = {}) {
    this.detector = options.detector ?? { detect: detectPii };
  }

  /** The kinds redacted so far in this request. */
  get kinds(): PiiKind[] {
    return [...this.kindsFound].sort();
  }

  get count(): number {
    return this.originals.size;
  }

  /** How many distinct values of each kind were replaced so far: counts for metrics, never the values. */
  valuesByKind(): Map<PiiKind, number> {
    const counts = new Map<PiiKind, number>();
    for (const key of this.byValue.keys()) {
      const kind = key.slice(0, key.indexOf("\u0000")) as PiiKind;
      counts.set(kind, (counts.get(kind) ?? 0) + 1);
    }
    return counts;
  }

  /**
   * Placeholders the request already holds anywhere in `texts` are never issued for a new value, so that in one
   * request a placeholder stands for one value: a conversation continued from its record holds the record's
   * placeholders ([EMAIL_1] for an address nobody here knows any more), and a new address elsewhere in the request
   * must not become [EMAIL_1] too — restored, the model's every mention of the old one would read as the new one.
   * Each text redacted reserves its own (see replaced); this is for the rest of the request, reserved before it.
   */
  reserve(texts: Iterable<string>): this {
    for (const text of texts) {
      // Most texts hold no bracket at all: the request path pays a character search for them, not a regex.
      if (!text.includes("[")) continue;
      for (const placeholder of text.match(PLACEHOLDER) ?? []) this.reserved.add(placeholder);
    }
    return this;
  }

  redactText(text: string): { text: string; findings: Finding[] } {
    const findings = this.detector.detect(text, this.options);
    if (findings.length === 0) return { text, findings };
    return { text: this.replaced(text, findings, (finding) => text.slice(finding.start, finding.end), text, (placeholder) => placeholder), findings };
  }

  /**
   * Redacts a regular expression (a JSON Schema "pattern"), read for the literal text it spells
   * ("jane\.doe@example\.org" is that address); its placeholders are escaped, so the pattern matches them literally.
   */
  redactPattern(pattern: string): string {
    const reading = patternReading(pattern);
    const findings = this.detector.detect(reading.text, this.options);
    if (findings.length === 0) return pattern;
    // Spans in the pattern as written; values as the pattern spells them ("jane.doe@…", not "jane\.doe@…").
    const values = findings.map((finding) => reading.text.slice(finding.start, finding.end));
    const spans = findings.map((finding) => ({ ...finding, ...reading.originalSpan(finding.start, finding.end) }));
    return this.replaced(pattern, spans, (_, i) => values[i]!, reading.text, escapeForPattern);
  }

  restore(output: string): string {
    if (this.originals.size === 0) return output;
    return output.replace(PLACEHOLDER, (placeholder) => this.originals.get(placeholder) ?? placeholder);
  }

  /**
   * Restores a streamed output chunk by chunk: a chunk ending inside a possible placeholder ("…[EMA") is held back
   * until the next one completes or refutes it, so a placeholder split across chunks is still restored.
   */
  restoreStream(): { push(chunk: string): string; end(): string } {
    let pending = "";
    return {
      push: (chunk) => {
        pending += chunk;
        const open = pending.lastIndexOf("[");
        const hold = open >= 0 && pending.length - open < MAX_PLACEHOLDER && /^\[[A-Z0-9_]*$/.test(pending.slice(open));
        const ready = hold ? pending.slice(0, open) : pending;
        pending = hold ? pending.slice(open) : "";
        return this.restore(ready);
      },
      end: () => {
        const rest = this.restore(pending);
        pending = "";
        return rest;
      },
    };
  }

  /**
   * `text` with each span replaced by the placeholder of its value, as `write` puts it. (Values are asked for by
   * span rather than carried in copies of the findings: this is the hot path of every redaction.)
   */
  private replaced(text: string, spans: readonly Finding[], valueOf: (span: Finding, index: number) => string, read: string, write: (placeholder: string) => string): string {
    // Placeholders the caller's text already contains are never issued: they would be restored into something the
    // caller wrote themselves. One scan of the text (as read), not one per new value.
    this.reserve([read]);
    let out = "";
    let at = 0;
    for (let i = 0; i < spans.length; i++) {
      const span = spans[i]!;
      out += text.slice(at, span.start) + write(this.placeholderFor(span.kind, valueOf(span, i)));
      at = span.end;
    }
    return out + text.slice(at);
  }

  private placeholderFor(kind: PiiKind, value: string): string {
    this.kindsFound.add(kind);
    const key = `${kind}\u0000${normalise(kind, readableForm(value))}`;
    const known = this.byValue.get(key);
    if (known) return known;
    let n = this.counters.get(kind) ?? 0;
    let placeholder: string;
    do placeholder = `[${PLACEHOLDER_LABELS[kind]}_${++n}]`;
    while (this.reserved.has(placeholder));
    this.counters.set(kind, n);
    this.byValue.set(key, placeholder);
    this.originals.set(placeholder, value);
    return placeholder;
  }
}

/**
 * The same value written differently ("DE89 3704…" and "de893704…", "jane%40example.org" and "jane@example.org")
 * is the same value.
 */
function normalise(kind: PiiKind, value: string): string {
  if (kind === "email" || kind === "ipv6") return value.toLowerCase();
  if (kind === "ipv4") return value;
  return value.replace(/[\s().\-/]/g, "").toUpperCase();
}

/** Redacts one text: typed placeholders, stable per distinct value, and a restore for the model's output. */
export function redact(text: string, options: RedactOptions = {}): Redaction {
  const redactor = new Redactor(options);
  const result = redactor.redactText(text);
  return { ...result, kinds: redactor.kinds, restore: (output) => redactor.restore(output) };
}
