import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmbeddedPostgres } from "../../src/store/embedded/embedded-postgres.js";

export interface TestDatabaseServer {
  url: string;
  stop(): Promise<void>;
}

/**
 * DATABASE_URL when set (CI with a service container, a developer's own server); otherwise an embedded PostgreSQL
 * in a fresh folder under the system temp directory, which the postgres account can reach when tests run as root.
 */
export async function startTestDatabaseServer(): Promise<TestDatabaseServer> {
  const configured = process.env["DATABASE_URL"];
  if (configured) return { url: configured, stop: async () => undefined };

  const dataDir = await mkdtemp(join(tmpdir(), "atomic-test-pg-"));
  try {
    const server = await startEmbeddedPostgres({ dataDir });
    return {
      url: server.connectionString,
      stop: async () => {
        await server.stop();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}
