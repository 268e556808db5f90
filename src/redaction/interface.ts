import type { PiiKind } from "./kinds.js";

/** A span of text holding PII. The value itself is not kept: findings are safe to log and to store. */
export interface Finding {
  kind: PiiKind;
  /** UTF-16 offsets into the text as given (not as normalised for detection), end exclusive. */
  start: number;
  end: number;
  /**
   * Confirmed by a check beyond the pattern: a checksum (IBAN, card, NHS, Steuer-ID, NIR, DNI), the numbering plan
   * (phone) or an address parser (IP). Emails and SSNs have no such check and are reported unvalidated.
   */
  validated: boolean;
}

export interface DetectOptions {
  /** Kinds to look for (default: all). */
  kinds?: readonly PiiKind[];
  /**
   * Regions whose national phone formats are recognised (ISO 3166 alpha-2); international numbers (+…, 00…) are
   * recognised whatever this says. Default: US, GB, DE, FR.
   */
  phoneRegions?: readonly string[];
}

/** One detector per kind (or family of kinds); each returns its candidates, overlaps are settled afterwards. */
export interface Detector {
  readonly kinds: readonly PiiKind[];
  find(text: string, options: Required<DetectOptions>): Finding[];
}

/** Whatever finds PII in text; the pattern-and-checksum detector is the one built, a model-based one could follow. */
export interface PiiDetector {
  detect(text: string, options?: DetectOptions): Finding[];
}
