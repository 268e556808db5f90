import type { TestProject } from "vitest/node";
import "../support/provided-context.js";
import { startTestDatabaseServer } from "../support/database-server.js";

/** Starts what every test file shares, once per run, and hands it over with provide(). */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const database = await startTestDatabaseServer();
  project.provide("databaseUrl", database.url);
  return async () => {
    await database.stop();
  };
}
