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
  await onServer(serverUrl, `CREATE DATABASE ${name}`);
  return {
    url: withDatabase(serverUrl, name),
    // FORCE: a test that failed half-way may leave connections open, which would otherwise block the drop.
    drop: () => onServer(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

async function onServer(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

