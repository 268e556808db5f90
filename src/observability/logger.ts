import { pino, type Logger, type LevelWithSilent, type DestinationStream } from "pino";
import { PII_KINDS, piiSafeLoggerOptions } from "../redaction/index.js";

const LOGGED_PII_KINDS = PII_KINDS.filter((kind) => kind !== "ipv4" && kind !== "ipv6");

export type { Logger };

export interface LoggerOptions {
  level: LevelWithSilent;
  /** Defaults to stdout; tests pass a stream to read what was logged. */
  destination?: DestinationStream;
}

/**
 * Structured JSON logs; never pretty-printed in production so that log shippers parse every line. Every finished
 * line passes the PII filter: an e-mail, phone number, card or national identifier that reached a log field leaves
 * as a placeholder. IP addresses stay: they are the operator's own metadata (listen URLs, peers of refused
 * requests), recorded in the audit log as well.
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: "atomic" },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      ...piiSafeLoggerOptions({}, { kinds: LOGGED_PII_KINDS }),
    },
    options.destination,
  );
}
