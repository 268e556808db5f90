import { makeTelemetryFilterString, Runtime, type LogLevel, type LogMetadata, type Logger as TemporalLogger } from "@temporalio/worker";
import type { Logger } from "../observability/logger.js";

/** Temporal's SDK and core logs, through Atomic's pino logger (one JSON log stream per process). */
class PinoTemporalLogger implements TemporalLogger {
  constructor(private readonly logger: Logger) {}

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    const fields = meta ?? {};
    switch (level) {
      case "TRACE": return this.logger.trace(fields, message);
      case "DEBUG": return this.logger.debug(fields, message);
      case "INFO": return this.logger.info(fields, message);
      case "WARN": return this.logger.warn(fields, message);
      default: return this.logger.error(fields, message);
    }
  }
  trace(message: string, meta?: LogMetadata): void { this.log("TRACE", message, meta); }
  debug(message: string, meta?: LogMetadata): void { this.log("DEBUG", message, meta); }
  info(message: string, meta?: LogMetadata): void { this.log("INFO", message, meta); }
  warn(message: string, meta?: LogMetadata): void { this.log("WARN", message, meta); }
  error(message: string, meta?: LogMetadata): void { this.log("ERROR", message, meta); }
}

/**
 * Installs Temporal's process-wide runtime with Atomic's logger, before the first connection or worker. Temporal
 * allows one per process: later calls (another worker in the same process, a test file) keep the first.
 */
export function ensureTemporalRuntime(logger: Logger): void {
  if (Runtime._instance) return;
  Runtime.install({
    logger: new PinoTemporalLogger(logger.child({ component: "temporal-sdk" })),
    telemetryOptions: { logging: { forward: {}, filter: makeTelemetryFilterString({ core: "WARN", other: "ERROR" }) } },
  });
}
