import { cpSync, mkdtempSync, readdirSync, symlinkSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { build } from "esbuild";
import { buildWorkflowBundle } from "../../src/orchestration/bundle.js";
import { WORKFLOW_BUNDLE_FILE } from "../../src/orchestration/worker.js";

const repoRoot = resolve(import.meta.dirname, "..", "..");

export interface TestBuild {
  /** The compiled source, laid out as dist/: ATOMIC_COMPILED_SOURCE for the run (src/util/sibling-entry.ts). */
  dist: string;
  /** dist/cli/main.js: `atomic` as operators run it. */
  cli: string;
  /** The task workflows bundled, where `atomic worker` started from this build finds them. */
  workflowBundle: string;
  remove(): Promise<void>;
}

/**
 * What `npm run build` makes, made for one test run from the source as it is: src/ compiled file by file into a
 * folder laid out as the project's root (package.json, node_modules and .tools linked, dist/ holding the build,
 * the assets beside their modules and the workflow bundle beside the worker), so that a process started from it
 * finds what it would find in a built checkout. Tests start `atomic` and Atomic's child processes from it with
 * plain node: through tsx, which hooks every module a process loads, each such start cost ~1 s of CPU more, a
 * hundred-odd times a run, and every `atomic worker` ran webpack over the workflows as it started.
 *
 * esbuild compiles each file alone, as tsc emits it (types are npm test's typecheck's business): ~1 s for src/.
 */
export async function buildForTests(): Promise<TestBuild> {
  const root = mkdtempSync(join(tmpdir(), "atomic-test-build-"));
  for (const linked of ["package.json", "node_modules", ".tools"]) symlinkSync(join(repoRoot, linked), join(root, linked));
  const source = join(repoRoot, "src");
  const dist = join(root, "dist");
  const files = readdirSync(source, { recursive: true, encoding: "utf8" }).map((file) => join(source, file));
  const typescript = files.filter((file) => file.endsWith(".ts") && !file.endsWith(".test.ts"));
  const workflowBundle = join(dist, "orchestration", WORKFLOW_BUNDLE_FILE);
  try {
    await Promise.all([
      build({ entryPoints: typescript, outdir: dist, outbase: source, format: "esm", platform: "node", target: "node20", logLevel: "error" }),
      buildWorkflowBundle(workflowBundle),
    ]);
    // The build script's assets (migrations, the OpenAPI reference, the dashboard's files): everything in src/
    // that is not TypeScript.
    cpSync(source, dist, { recursive: true, filter: (path) => !path.endsWith(".ts") });
  } catch (error) {
    await rm(root, { recursive: true, force: true });
    throw error;
  }
  return {
    dist,
    cli: join(dist, "cli", "main.js"),
    workflowBundle,
    remove: () => rm(root, { recursive: true, force: true }),
  };
}
