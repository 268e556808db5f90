import type { Pool } from "pg";
import type { ApiKeyStore, ContentErasureStore, DatabaseHealth, ExecutionStore, SchemaStore } from "../interface.js";
import { PostgresApiKeyStore } from "./api-keys.js";
import { createPool, PostgresHealth, type PoolOptions } from "./database.js";
import { PostgresContentErasureStore } from "./erasure.js";
import { PostgresExecutionStore } from "./executions.js";
import { PostgresSchemaStore } from "./schemas.js";

export interface PostgresStores {
  executions: ExecutionStore;
  schemas: SchemaStore;
  apiKeys: ApiKeyStore;
  erasure: ContentErasureStore;
  health: DatabaseHealth;
  pool: Pool;
  close(): Promise<void>;
}

/**
 * Stores over one shared pool. Migrations are the caller's step (migrate(stores.pool)) so that it can report what
 * was applied. The first connection is made here, so a wrong URL or a database that is down fails now, not on the
 * first request.
 */
export async function openPostgresStores(connectionString: string, options: PoolOptions = {}): Promise<PostgresStores> {
  const pool = createPool(connectionString, options);
  const health = new PostgresHealth(pool);
  try {
    await health.ping();
  } catch (error) {
    await pool.end();
    throw error;
  }
  return {
    executions: new PostgresExecutionStore(pool),
    schemas: new PostgresSchemaStore(pool),
    apiKeys: new PostgresApiKeyStore(pool),
    erasure: new PostgresContentErasureStore(pool),
    health,
    pool,
    close: () => pool.end(),
  };
}
