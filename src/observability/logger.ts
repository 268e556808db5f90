import { pino, type Logger, type LevelWithSilent, type DestinationStream } from "pino";

export type { Logger };

export interface LoggerOptions {
  level: LevelWithSilent;
  /** Defaults to stdout; tests pass a stream to read what was logged. */
  destination?: DestinationStream;
}

/** Structured JSON logs; never pretty-printed in production so that log shippers parse every line. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: "atomic" },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination,
  );
}
