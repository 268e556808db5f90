import type { TestProject } from "vitest/node";
import { execFileSync } from "node:child_process";
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
  // The official Python client (test/gateway/openai-python-client.test.ts), installed by its own script as Temporal's
  // CLI is: pinned and hash-checked into .tools/pyclient, one line and nothing else when it is already there.
  const pyclientPython = execFileSync(process.execPath, [join(repoRoot, "scripts", "install-pyclient.mjs")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
  project.provide("pyclientPython", pyclientPython);
  // The dashboard's tests (test/ui) drive Debian's Chromium: apt-get installs it when missing, else this is one stat.
  execFileSync(process.execPath, [join(repoRoot, "scripts", "install-chromium.mjs")], { stdio: ["ignore", "ignore", "inherit"] });
  const database = await startTestDatabaseServer();
  project.provide("databaseUrl", database.url);
  return async () => {
    await database.stop();
  };
}
