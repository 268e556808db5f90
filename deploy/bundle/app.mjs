/**
 * The gateway as it ships: compiled from this tree, with production dependencies installed from the lock file
 * (npm ci --omit=dev, install scripts off as in development: node-llama-cpp and the rest ship prebuilt binaries),
 * the Temporal workflow code bundled once, and what does not run on the target pruned away.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { TEMPORAL_BRIDGE_TARGET } from "./pins.mjs";
import { BuildError, run } from "./run.mjs";
import { pruneBundlerBuilds, pruneFiles, prunePackages, sizeOf } from "./trim.mjs";

export async function compileGateway(log, repo, appDir) {
  const dist = join(appDir, "dist");
  rmSync(dist, { recursive: true, force: true });
  // Into the stage rather than the tree's dist/: other work in the tree may be running from dist/ right now.
  await run(log, process.execPath, [join(repo, "node_modules", "typescript", "bin", "tsc"), "-p", join(repo, "tsconfig.build.json"), "--outDir", dist], { cwd: repo });
  cpSync(join(repo, "src", "store", "postgres", "migrations"), join(dist, "store", "postgres", "migrations"), { recursive: true });
  // The API reference page's HTML, script and style, which the gateway serves at /docs (not TypeScript: tsc leaves them).
  cpSync(join(repo, "src", "gateway", "openapi", "reference"), join(dist, "gateway", "openapi", "reference"), { recursive: true });
  // The dashboard's page, modules and style, which the gateway serves at /ui.
  cpSync(join(repo, "src", "ui", "assets"), join(dist, "ui", "assets"), { recursive: true });
  return dist;
}

export async function installProductionDependencies(log, repo, appDir, onLine) {
  cpSync(join(repo, "package.json"), join(appDir, "package.json"));
  cpSync(join(repo, "package-lock.json"), join(appDir, "package-lock.json"));
  await run(log, "npm", [
    "ci", "--omit=dev", "--ignore-scripts", "--no-bin-links", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=warn",
  ], { cwd: appDir, env: { ...process.env, NODE_LLAMA_CPP_SKIP_DOWNLOAD: "true" }, onLine });
}

/** Workers load this file instead of running webpack at every start (what `npm run build` does for the tree). */
export async function bundleWorkflows(log, appDir) {
  const script = "const m = await import(process.argv[1]); process.stdout.write(await m.buildWorkflowBundle());";
  const module = new URL(`file://${join(appDir, "dist", "orchestration", "bundle.js")}`).href;
  await run(log, process.execPath, ["--input-type=module", "-e", script, module], { cwd: appDir });
}

function remove(path, removed, why, appDir) {
  const bytes = sizeOf(path);
  if (bytes === 0 && !existsSync(path)) return;
  rmSync(path, { recursive: true, force: true });
  removed.push({ path: relative(appDir, path), bytes, why });
}

/**
 * What ships only for other machines, for building from source, or for development; each rule says why it is safe.
 * Then deploy/bundle/trim.mjs: packages and files no run-time code loads. The builder's load check and the bundle
 * test run the pruned tree (chat completion, worker, audit export) to prove it. `llamaBuilds`: the
 * @node-llama-cpp/* packages to keep (pins.mjs LLAMA_BUILDS).
 */
export function prune(appDir, { llamaBuilds }) {
  const modules = join(appDir, "node_modules");
  const removed = [];
  const keep = new Set(llamaBuilds);
  const llamaScope = join(modules, "@node-llama-cpp");
  if (existsSync(llamaScope)) {
    for (const name of readdirSync(llamaScope)) {
      if (!keep.has(name)) remove(join(llamaScope, name), removed, "llama.cpp build for another target", appDir);
    }
  }
  for (const name of keep) {
    if (!existsSync(join(llamaScope, name))) throw new BuildError(`npm ci did not install @node-llama-cpp/${name}, which this bundle must carry`);
  }
  // The llama.cpp sources as a git bundle: only for compiling, and the gateway runs with build: "never".
  remove(join(modules, "node-llama-cpp", "llama", "gitRelease.bundle"), removed, "llama.cpp source (no compiling on the target)", appDir);
  const bridge = join(modules, "@temporalio", "core-bridge");
  const releases = join(bridge, "releases");
  if (existsSync(releases)) {
    for (const name of readdirSync(releases)) {
      if (name !== TEMPORAL_BRIDGE_TARGET) remove(join(releases, name), removed, "Temporal bridge for another platform", appDir);
    }
    if (!existsSync(join(releases, TEMPORAL_BRIDGE_TARGET))) throw new BuildError(`@temporalio/core-bridge has no ${TEMPORAL_BRIDGE_TARGET} build`);
  }
  remove(join(bridge, "sdk-core"), removed, "Rust sources of the Temporal bridge", appDir);
  // Leftovers of npm itself: the lock was only needed to install, the SBOM records what is there.
  remove(join(modules, ".package-lock.json"), removed, "npm's install record", appDir);
  try {
    prunePackages(appDir, removed);
  } catch (error) {
    throw new BuildError(error.message);
  }
  pruneBundlerBuilds(appDir, removed);
  pruneFiles(appDir, removed);
  return removed;
}

/**
 * What the app folder needs besides code: default policies, the empty manifest the site's own models are pinned in
 * (the models a bundle carries have their own, models/manifest.json), the standalone audit verifier.
 */
export function addAppFiles(repo, appDir, version) {
  cpSync(join(repo, "policies"), join(appDir, "policies"), { recursive: true });
  mkdirSync(join(appDir, "models"), { recursive: true });
  writeFileSync(join(appDir, "models", "manifest.json"), `${JSON.stringify({ version: 1, models: [] }, null, 2)}\n`);
  cpSync(join(repo, "audit"), join(appDir, "audit"), { recursive: true });
  // The shipped package.json: what Node needs ("type": "module") and what identifies the release. Scripts and
  // devDependencies describe the development tree and would only mislead on an appliance.
  const source = JSON.parse(readFileSync(join(repo, "package.json"), "utf8"));
  const shipped = {
    name: source.name,
    version,
    description: source.description,
    license: source.license,
    private: true,
    type: source.type,
    engines: source.engines,
    bin: source.bin,
    dependencies: source.dependencies,
  };
  writeFileSync(join(appDir, "package.json"), `${JSON.stringify(shipped, null, 2)}\n`);
  rmSync(join(appDir, "package-lock.json"), { force: true });
}

