import pg from "pg";
import type { Pool } from "pg";
import type { DatabaseHealth } from "../interface.js";

export interface PoolOptions {
  /** Connections held at most. The embedded server allows 100 in all, shared by every gateway process. */
  max?: number;
  /** Server-side limit on any one statement; omitted: no limit. */
  statementTimeoutMs?: number;
  /** Bounds the wait for a new connection, so a database that hangs fails requests instead of stalling them. */
  connectionTimeoutMs?: number;
  /**
   * false: commits return before their WAL reaches disk (PostgreSQL's synchronous_commit=off). A crash of the
   * machine may then lose the last few hundred milliseconds of commits, never consistency. Default true.
   */
  synchronousCommit?: boolean;
  /** Receives errors of idle connections (server restarted, socket lost); unheard, they would crash the process. */
  logger?: { warn(obj: object, msg?: string): void };
}

export function createPool(connectionString: string, options: PoolOptions = {}): Pool {
  const pool = new pg.Pool({
    connectionString,
    application_name: "atomic",
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 10_000,
    ...(options.statementTimeoutMs === undefined ? {} : { statement_timeout: options.statementTimeoutMs }),
    ...(options.synchronousCommit === false ? { options: "-c synchronous_commit=off" } : {}),
  });
  pool.on("error", (error) => options.logger?.warn({ err: error }, "idle database connection failed"));
  return pool;
}

export class PostgresHealth implements DatabaseHealth {
  constructor(private readonly pool: Pool) {}

  async ping(): Promise<void> {
    await this.pool.query("SELECT 1");
  }
}
