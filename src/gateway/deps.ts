import type { Logger } from "../observability/logger.js";
import type { PipelineDeps } from "../pipeline/generate.js";
import type { DatabaseHealth, SchemaStore } from "../store/interface.js";

/** Everything the HTTP layer needs, injected so tests and the benchmark can swap any part. */
export interface GatewayDeps extends PipelineDeps {
  schemas: SchemaStore;
  health: DatabaseHealth;
  logger: Logger;
  bodyLimitBytes: number;
}
