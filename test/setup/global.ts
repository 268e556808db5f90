import type { TestProject } from "vitest/node";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import "../support/provided-context.js";
import { startTestDatabaseServer } from "../support/database-server.js";
import { installModelFamily } from "../../scripts/models/install.js";
import { COMPILED_SOURCE_ENV } from "../../src/util/sibling-entry.js";
import { buildForTests } from "../support/test-build.js";
import { useRunTemp } from "../support/run-temp.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

const run = promisify(execFile);

/** One of the project's install scripts; its stdout (the installed thing's path), its progress on our stderr. */
async function installScript(name: string): Promise<string> {
  const child = run(process.execPath, [join(repoRoot, "scripts", name)], { encoding: "utf8", maxBuffer: 16 << 20 });
  child.child.stderr?.pipe(process.stderr);
  return (await child).stdout.trim();
}

/**
 * Starts what every test file shares, once per run, and hands it over with provide(). The installs, the database
 * and the run's build start side by side: on a fresh machine each install waits mostly on downloads, and one after
 * another they were the run's first minute.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // First: every folder this setup, the Temporal setup after it and the test files make lands inside, and goes
  // with it (vitest tears setups down in reverse, so this one last).
  const runTemp = useRunTemp();
  const [family, pyclient, chromium, database, build] = await Promise.allSettled([
    // The real-model tier needs the model family: installed (or found cached) before any file runs, as npm start's
    // pre-step does. A failure fails the run with the installer's one-line reason.
    installModelFamily({
      pinsPath: join(repoRoot, "models", "family.json"),
      home: resolve(process.env["ATOMIC_MODELS_HOME"] ?? join(repoRoot, ".tools", "models")),
      log: (line) => process.stderr.write(`install-models: ${line}\n`),
    }),
    // The official Python client (test/gateway/openai-python-client.test.ts), installed by its own script as
    // Temporal's CLI is: pinned and hash-checked into .tools/pyclient, one line when it is already there.
    installScript("install-pyclient.mjs"),
    // The dashboard's tests (test/ui) drive Debian's Chromium: apt-get installs it when missing, else one stat.
    installScript("install-chromium.mjs"),
    startTestDatabaseServer(),
    // The source compiled as `npm run build` would, with the task workflows bundled once for the run rather than by
    // every worker a test starts (test/support/test-build.ts).
    buildForTests(),
  ]);
  let server: Awaited<ReturnType<typeof startTestDatabaseServer>>;
  let built: Awaited<ReturnType<typeof buildForTests>>;
  try {
    project.provide("familyManifest", fulfilled(family).manifestPath);
    project.provide("pyclientPython", fulfilled(pyclient));
    fulfilled(chromium);
    server = fulfilled(database);
    built = fulfilled(build);
  } catch (error) {
    // A server already started would outlive the run, a build its folder.
    if (database.status === "fulfilled") await database.value.stop();
    if (build.status === "fulfilled") await build.value.remove();
    await runTemp.remove();
    throw error;
  }
  const { root, dist, cli, workflowBundle, remove } = built;
  project.provide("databaseUrl", server.url);
  project.provide("buildRoot", root);
  project.provide("atomicCli", cli);
  project.provide("workflowBundle", workflowBundle);
  project.provide("runTemp", runTemp.path);
  // Every process the test files start inherits it: Atomic's child processes start from the compiled copy.
  process.env[COMPILED_SOURCE_ENV] = dist;
  return async () => {
    await server.stop();
    await remove();
    await runTemp.remove();
  };
}

function fulfilled<T>(result: PromiseSettledResult<T>): T {
  if (result.status === "rejected") throw result.reason;
  return result.value;
}
