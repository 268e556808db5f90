import type { LoggerOptions } from "pino";
import { redactJson } from "./json.js";
import { Redactor, type RedactOptions } from "./redact.js";

/**
 * Keeps detected PII out of logs. The hook sees each finished line, after messages are formatted, errors and
 * bindings serialised and mixins merged, so nothing reaches the log by a path the others miss. The line is parsed
 * and its strings redacted rather than the raw text scanned: in JSON text an escape such as "\n" glues to a
 * number or an address and would hide it from the detectors.
 */
export function redactLogLine(line: string, options: RedactOptions = {}): string {
  const newline = line.endsWith("\n") ? "\n" : "";
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return new Redactor(options).redactText(line).text;
  }
  return JSON.stringify(redactJson(parsed, options).value) + newline;
}

/** Merge into pino's options: `pino({ ...options, ...piiSafeLoggerOptions() })` (keeps other hooks you pass here). */
export function piiSafeLoggerOptions(hooks: LoggerOptions["hooks"] = {}, options: RedactOptions = {}): Pick<LoggerOptions, "hooks"> {
  const next = hooks.streamWrite;
  return { hooks: { ...hooks, streamWrite: (line: string) => redactLogLine(next ? next(line) : line, options) } };
}

/** For a pino serializer or any value about to be written somewhere durable: a redacted copy. */
export function redactForLog(value: unknown, options: RedactOptions = {}): unknown {
  return redactJson(value, options).value;
}
