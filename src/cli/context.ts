import type { Config } from "../config/schema.js";
import type { Logger } from "../observability/logger.js";

export interface CommandContext {
  config: Config;
  logger: Logger;
  /** Results for the operator (stdout). */
  out: (line: string) => void;
  /** Problems for the operator (stderr). */
  err: (line: string) => void;
}
