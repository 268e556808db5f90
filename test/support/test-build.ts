import { cpSync, mkdtempSync, readdirSync, symlinkSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { build } from "esbuild";
import { buildWorkflowBundle } from "../../src/orchestration/bundle.js";
import { WORKFLOW_BUNDLE_FILE } from "../../src/orchestration/worker.js";

const repoRoot = resolve(import.meta.dirname, "..", "..");

export interface TestBuild {
  /** The folder laid out as the project's root: `node <root>/test/bench/x.js` runs test/bench/x.ts without tsx. */
  root: string;
  /** The compiled source, laid out as dist/: ATOMIC_COMPILED_SOURCE for the run (src/util/sibling-entry.ts). */
  dist: string;
  /** dist/cli/main.js: `atomic` as operators run it. */
  cli: string;
  /** The task workflows bundled, where `atomic worker` started from this build finds them. */
  workflowBundle: string;
  remove(): Promise<void>;
}

/** What the build makes in the root rather than linking it from the checkout. */
const BUILT = new Set(["src", "dist", "test", "scripts"]);
/** The TypeScript beside src/ that tests run as scripts of their own: benchmarks, fixtures, the install scripts. */
const SCRIPT_FOLDERS = ["test", "scripts"];

/**
 * What `npm run build` makes, made for one test run from the source as it is: src/ compiled file by file into a
 * folder laid out as the project's root (every other entry of the checkout linked, dist/ holding the build, the
 * assets beside their modules and the workflow bundle beside the worker), so that a process started from it
 * finds what it would find in a built checkout. Tests start `atomic` and Atomic's child processes from it with
 * plain node: through tsx, which hooks every module a process loads, each such start cost ~1 s of CPU more, a
 * hundred-odd times a run, and every `atomic worker` ran webpack over the workflows as it started.
 *
 * test/ and scripts/ (their TypeScript compiled, their other files copied) are there too, at their places, with
 * src/ a link to dist/: the benchmarks' smoke runs and the fixtures that tests start as processes run from there
 * with plain node as well (support/scripts.ts), their imports of ../../src/ landing on the build, and a sibling
 * they start (siblingEntry) is the compiled one beside them. Through tsx, a benchmark's start transformed its
 * imports, src/ among them, every time: 1.5–3 s of CPU more per smoke run, 6 s for bench:tasks, whose worker
 * bundled the workflows itself.
 *
 * esbuild compiles each file alone, as tsc emits it (types are npm test's typecheck's business): ~1 s for src/.
 */
export async function buildForTests(): Promise<TestBuild> {
  const root = mkdtempSync(join(tmpdir(), "atomic-test-build-"));
  for (const linked of readdirSync(repoRoot)) if (!BUILT.has(linked)) symlinkSync(join(repoRoot, linked), join(root, linked));
  const source = join(repoRoot, "src");
  const dist = join(root, "dist");
  symlinkSync("dist", join(root, "src"));
  const workflowBundle = join(dist, "orchestration", WORKFLOW_BUNDLE_FILE);
  const compile = (folder: string, outdir: string) => {
    const typescript = readdirSync(folder, { recursive: true, encoding: "utf8" })
      .filter((file) => file.endsWith(".ts") && !file.endsWith(".test.ts") && !file.endsWith(".d.ts"))
      .map((file) => join(folder, file));
    return build({ entryPoints: typescript, outdir, outbase: folder, format: "esm", platform: "node", target: "node20", logLevel: "error" });
  };
  try {
    await Promise.all([
      compile(source, dist),
      ...SCRIPT_FOLDERS.map((folder) => compile(join(repoRoot, folder), join(root, folder))),
      buildWorkflowBundle(workflowBundle),
    ]);
    // The build script's assets (migrations, the OpenAPI reference, the dashboard's files): everything in src/
    // that is not TypeScript; and the scripts' own (fixtures, .mjs helpers).
    cpSync(source, dist, { recursive: true, filter: (path) => !path.endsWith(".ts") });
    for (const folder of SCRIPT_FOLDERS) cpSync(join(repoRoot, folder), join(root, folder), { recursive: true, filter: (path) => !path.endsWith(".ts") });
  } catch (error) {
    await rm(root, { recursive: true, force: true });
    throw error;
  }
  return {
    root,
    dist,
    cli: join(dist, "cli", "main.js"),
    workflowBundle,
    remove: () => rm(root, { recursive: true, force: true }),
  };
}
