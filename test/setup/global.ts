import type { TestProject } from "vitest/node";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import "../support/provided-context.js";
import { startTestDatabaseServer } from "../support/database-server.js";
import { installModelFamily } from "../../scripts/models/install.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Starts what every test file shares, once per run, and hands it over with provide(). */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // The real-model tier needs the model family: installed (or found cached) before any file runs, as npm start's
  // pre-step does. A failure fails the run with the installer's one-line reason.
  const family = await installModelFamily({
    pinsPath: join(repoRoot, "models", "family.json"),
    home: resolve(process.env["ATOMIC_MODELS_HOME"] ?? join(repoRoot, ".tools", "models")),
    log: (line) => process.stderr.write(`install-models: ${line}\n`),
  });
  project.provide("familyManifest", family.manifestPath);
  const database = await startTestDatabaseServer();
  project.provide("databaseUrl", database.url);
  return async () => {
    await database.stop();
  };
}
