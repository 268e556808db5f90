import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";
import "./provided-context.js";
import { withDatabase } from "./database-url.js";

export { withDatabase };

export interface TestDatabase {
  /** Connection string for a new, empty database: migrate it (or not) as the test needs. */
  url: string;
  drop(): Promise<void>;
}

/** A database of its own for one test file, on the server the global setup started, so files never share rows. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = inject("databaseUrl");
  const name = `atomic_test_${randomBytes(6).toString("hex")}`;
  await queryOnce(serverUrl, `CREATE DATABASE ${name}`);
  return {
    url: withDatabase(serverUrl, name),
    // FORCE: a test that failed half-way may leave connections open, which would otherwise block the drop.
    drop: async () => void (await queryOnce(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)),
  };
}

/** One statement's rows, on a connection of its own that is closed after it (a test's pools stay out of it). */
export async function queryOnce<T extends pg.QueryResultRow = Record<string, unknown>>(url: string, sql: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, values)).rows;
  } finally {
    await client.end();
  }
}


/**
 * Empties the audit queue between tests. The database refuses that to everyone (an event leaves the queue only into
 * the log: migration 0020), so it is done as a replica applying changes does it, with triggers off, which only the
 * test database's superuser may.
 */
export async function emptyAuditQueue(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query("SET LOCAL session_replication_role = replica");
    await client.query("DELETE FROM audit_queue");
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
