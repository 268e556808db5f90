import { detectPii } from "./detect.js";
import type { DetectOptions, Finding, PiiDetector } from "./interface.js";
import { PLACEHOLDER_LABELS, type PiiKind } from "./kinds.js";

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

  redactText(text: string): { text: string; findings: Finding[] } {
    const findings = this.detector.detect(text, this.options);
    if (findings.length === 0) return { text, findings };
    // Placeholders the caller's text already contains are never issued: they would be restored into something the
    // caller wrote themselves. One scan of the text, not one per new value.
    const present = new Set(text.match(PLACEHOLDER) ?? []);
    let out = "";
    let at = 0;
    for (const finding of findings) {
      out += text.slice(at, finding.start) + this.placeholderFor(finding.kind, text.slice(finding.start, finding.end), present);
      at = finding.end;
    }
    return { text: out + text.slice(at), findings };
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

  private placeholderFor(kind: PiiKind, value: string, present: ReadonlySet<string>): string {
    this.kindsFound.add(kind);
    const key = `${kind}\u0000${normalise(kind, value)}`;
    const known = this.byValue.get(key);
    if (known) return known;
    let n = this.counters.get(kind) ?? 0;
    let placeholder: string;
    do placeholder = `[${PLACEHOLDER_LABELS[kind]}_${++n}]`;
    while (present.has(placeholder));
    this.counters.set(kind, n);
    this.byValue.set(key, placeholder);
    this.originals.set(placeholder, value);
    return placeholder;
  }
}

/** The same value written differently ("DE89 3704…" and "de893704…") is the same value. */
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
