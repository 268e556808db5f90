import { join, resolve } from "node:path";
import type { Config } from "../config/schema.js";
import type { Logger } from "../observability/logger.js";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "../store/embedded/embedded-postgres.js";
import { runningServerConnection } from "../store/embedded/running-server.js";
import { migrate } from "../store/postgres/migrate.js";
import { openPostgresStores, type PostgresStores } from "../store/postgres/index.js";

export interface OpenDatabase {
  stores: PostgresStores;
  /** Where it listens, for what opens connections of its own (the audit sequencer's thread). */
  url: string;
  /** Set when Atomic started its own PostgreSQL (no database.url configured, and none joined). */
  embedded?: EmbeddedPostgres;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /**
   * Where no database.url is configured and a gateway already runs the embedded PostgreSQL, connect to that server
   * rather than start one (which its lock refuses): for one-shot commands, never for a gateway, which supervises
   * a server of its own.
   */
  joinRunning?: boolean;
}

/**
 * The configured PostgreSQL, or an embedded one under the data directory when none is configured, migrated to the
 * current schema either way: there is one SQL code path, never an in-memory stand-in.
 */
export async function openDatabase(config: Config, logger: Logger, options: OpenDatabaseOptions = {}): Promise<OpenDatabase> {
  let embedded: EmbeddedPostgres | undefined;
  let url = config.database.url;
  if (!url) {
    const dataDir = join(resolve(config.dataDir), "postgres");
    const running = options.joinRunning ? await runningServerConnection(dataDir) : null;
    if (running !== null) {
      url = running;
    } else {
      embedded = await startEmbeddedPostgres({ dataDir, logger: logger.child({ component: "embedded-postgres" }) });
      url = embedded.connectionString;
    }
  }
  try {
    const stores = await openPostgresStores(url, { logger, synchronousCommit: config.database.synchronousCommit });
    const { applied } = await migrate(stores.pool);
    if (applied.length > 0) logger.info({ applied }, "database migrated");
    return {
      stores,
      url,
      embedded,
      close: async () => {
        await stores.close();
        await embedded?.stop();
      },
    };
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
}
