/**
 * What the appliance never runs, taken out of the stage once `npm ci --omit=dev` and the workflow bundle are done:
 *
 *   - packages no run-time code reaches: the workflow bundler (webpack, swc and their loaders: @temporalio/worker
 *     needs them to bundle workflow code, which the builder has already done into dist/orchestration/
 *     workflow-bundle.js, the file workers load), what only they depend on, optional peers (typescript, for
 *     node-llama-cpp's types) and type packages (@types/*);
 *   - in every package, files Node.js never loads: type declarations, source maps, TypeScript sources (Node 20
 *     runs none), Markdown (licence texts stay), test and benchmark folders;
 *   - the symbol and debug tables of every native file that still has them (Node.js, PostgreSQL, llama.cpp, the
 *     Temporal bridge; the Go binaries come built with -s -w), with `strip --strip-unneeded`, which keeps the
 *     dynamic symbols that loading and linking use.
 *
 * Each removal is recorded with its size and reason for the build report. deploy/bundle/load-check.mjs then runs
 * the pruned tree with the bundled Node.js, and the bundle test installs and runs it.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, closeSync, existsSync, lstatSync, openSync, readFileSync, readSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";

/** @temporalio/worker's workflow bundler and its loaders: run by the builder (bundleWorkflows), never on site. */
export const WORKFLOW_BUNDLER = ["webpack", "swc-loader", "source-map-loader", "@swc/core", "terser", "minimizer-webpack-plugin"];

/**
 * @temporalio/worker's bundler module requires webpack as it loads (at every worker start); webpack's entry only
 * defines lazy getters, so these files are all that require reads. The rest of webpack (14 MiB) goes.
 */
export const WEBPACK_ENTRY = ["package.json", "LICENSE", "lib/index.js", "lib/util/memoize.js"];

/** Files no run-time code loads. Licence texts are kept even where they are Markdown. */
const DEAD_FILES = [
  [/\.d\.[cm]?ts(\.map)?$/, "type declarations"],
  [/\.map$/, "source maps"],
  [/\.[cm]?tsx?$/, "TypeScript sources (Node.js 20 does not run them)"],
  [/\.(md|markdown)$/i, "documentation"],
];
const KEEP_FILES = /^(licen[cs]e|notice|copying|authors)/i;
/** Folders of tests and benchmarks, anywhere in a package; `docs` only at a package's root (elsewhere it may be code). */
const DEAD_DIRS = new Set(["test", "tests", "__tests__", "benchmark", "benchmarks", ".github"]);
const DEAD_ROOT_DIRS = new Set(["docs"]);

/** Builds of a package for other module systems than the one the gateway imports. */
const OTHER_BUILDS = [
  // src/policy/cedar.ts imports @cedar-policy/cedar-wasm/nodejs; esm/ (for bundlers) and web/ carry the same WASM.
  ["@cedar-policy/cedar-wasm/esm", "Cedar's build for bundlers (the gateway imports its nodejs/ build)"],
  ["@cedar-policy/cedar-wasm/web", "Cedar's build for browsers (the gateway imports its nodejs/ build)"],
];

/** Bytes under a path, links counted as themselves; 0 for a path that is not there. */
export function sizeOf(path) {
  let stat;
  try {
    stat = lstatSync(path);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((sum, name) => sum + sizeOf(join(path, name)), 0);
}

/** Every installed package folder under node_modules, nested ones included: name → folders. */
export function installedPackages(modules) {
  const found = [];
  const visit = (dir) => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      if (name.startsWith(".")) continue;
      if (name.startsWith("@")) {
        for (const inner of readdirSync(join(dir, name))) add(join(dir, name, inner), `${name}/${inner}`);
      } else add(join(dir, name), name);
    }
  };
  const add = (path, name) => {
    if (!existsSync(join(path, "package.json"))) return;
    found.push({ name, path });
    visit(join(path, "node_modules"));
  };
  visit(modules);
  return found;
}

/** Node's lookup: the package `name` as code in `from` would find it (from's node_modules, then its parents'). */
function resolvePackage(appDir, from, name) {
  for (let dir = from; dir.startsWith(appDir); dir = dirname(dir)) {
    if (dir.endsWith(`${sep}node_modules`)) continue;
    const candidate = join(dir, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return candidate;
    if (dir === appDir) break;
  }
  return null;
}

/**
 * The package folders the app's dependencies (or only `roots` of them) reach: dependencies, optional dependencies
 * and required peers, transitively; not optional peers, not @types/*, and not through the packages in `stopAt`
 * (which are themselves reached).
 */
export function reachablePackages(appDir, stopAt = [], roots = undefined) {
  const stop = new Set(stopAt);
  const root = JSON.parse(readFileSync(join(appDir, "package.json"), "utf8"));
  const seen = new Set();
  const queue = (roots ?? Object.keys(root.dependencies ?? {})).map((n) => resolvePackage(appDir, appDir, n)).filter(Boolean);
  while (queue.length > 0) {
    const dir = queue.pop();
    if (seen.has(dir)) continue;
    seen.add(dir);
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    if (stop.has(pkg.name)) continue;
    const optionalPeers = new Set(Object.entries(pkg.peerDependenciesMeta ?? {}).filter(([, m]) => m?.optional).map(([n]) => n));
    const names = [
      ...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.optionalDependencies ?? {}),
      ...Object.keys(pkg.peerDependencies ?? {}).filter((n) => !optionalPeers.has(n)),
    ];
    for (const name of names) {
      // Type packages (protobufjs depends on @types/node) hold declarations only: nothing loads them.
      if (name.startsWith("@types/")) continue;
      const found = resolvePackage(appDir, dir, name);
      if (found) queue.push(found);
    }
  }
  return seen;
}

function removeTracked(path, removed, why, base) {
  const bytes = sizeOf(path);
  if (bytes === 0 && !existsSync(path)) return;
  rmSync(path, { recursive: true, force: true });
  removed.push({ path: relative(base, path), bytes, why });
}

/** Removes the packages no run-time code reaches, and all of the workflow bundler but webpack's entry. */
export function prunePackages(appDir, removed) {
  const modules = join(appDir, "node_modules");
  const atRunTime = reachablePackages(appDir, WORKFLOW_BUNDLER);
  const withBundler = reachablePackages(appDir);
  for (const { name, path } of installedPackages(modules)) {
    if (!existsSync(path)) continue; // inside a package removed above
    if (name === "webpack" && atRunTime.has(path)) {
      trimTo(path, WEBPACK_ENTRY, removed, appDir);
    } else if (WORKFLOW_BUNDLER.includes(name)) {
      removeTracked(path, removed, "workflow bundler (the builder bundles the workflows)", appDir);
    } else if (name.startsWith("@types/")) {
      removeTracked(path, removed, "type declarations only", appDir);
    } else if (!atRunTime.has(path)) {
      removeTracked(path, removed, withBundler.has(path) ? "used only by the workflow bundler" : "no run-time code reaches it (an optional peer, or types only)", appDir);
    }
  }
  for (const [path, why] of OTHER_BUILDS) removeTracked(join(modules, ...path.split("/")), removed, why, appDir);
  // Scopes whose every package went (@swc, @types, ...).
  for (const name of readdirSync(modules)) {
    if (name.startsWith("@") && readdirSync(join(modules, name)).length === 0) rmSync(join(modules, name), { recursive: true });
  }
}

/**
 * The conditions Node.js 20 matches in a package's `exports` (`module-sync` since 20.19); `module`, `esnext`,
 * `browser` and the like are bundlers' only.
 */
const NODE_CONDITIONS = new Set(["node", "import", "require", "module-sync", "default", "node-addons"]);
/** package.json fields that only bundlers read. */
const BUNDLER_FIELDS = ["module", "esnext", "es2015", "jsnext:main"];

/** Every file an `exports` map can hand Node.js, under any of its conditions. */
function nodeTargets(exports, out = []) {
  if (typeof exports === "string") out.push(exports);
  else if (Array.isArray(exports)) for (const e of exports) nodeTargets(e, out);
  else if (exports && typeof exports === "object") {
    for (const [key, value] of Object.entries(exports)) if (key.startsWith(".") || NODE_CONDITIONS.has(key)) nodeTargets(value, out);
  }
  return out;
}

const topDir = (file) => {
  const parts = file.replace(/^\.\//, "").split("/");
  // build/esm/index.js → build/esm; esm/index.js → esm
  return parts.length > 2 && ["build", "dist", "lib"].includes(parts[0]) ? `${parts[0]}/${parts[1]}` : parts.length > 1 ? parts[0] : null;
};

/**
 * Builds a package ships for bundlers only: the folder its `module`/`esnext` field names (OpenTelemetry ships
 * build/src for Node.js and the same code again as build/esm and build/esnext), when neither `main` nor any
 * target of `exports` under Node's conditions lies in it.
 */
export function pruneBundlerBuilds(appDir, removed) {
  let bytes = 0;
  let count = 0;
  for (const { path } of installedPackages(join(appDir, "node_modules"))) {
    const pkg = JSON.parse(readFileSync(join(path, "package.json"), "utf8"));
    const dirs = new Set(BUNDLER_FIELDS.map((f) => pkg[f]).filter((v) => typeof v === "string").map(topDir).filter(Boolean));
    if (dirs.size === 0) continue;
    const used = [pkg.main ?? "index.js", ...nodeTargets(pkg.exports ?? null)].map((t) => t.replace(/^\.\//, ""));
    for (const dir of dirs) {
      const full = join(path, dir);
      if (used.some((t) => t === dir || t.startsWith(`${dir}/`)) || !existsSync(full) || !lstatSync(full).isDirectory()) continue;
      bytes += sizeOf(full);
      count += 1;
      rmSync(full, { recursive: true, force: true });
    }
  }
  if (count > 0) removed.push({ path: `node_modules/**: ${count} folders`, bytes, why: "builds for bundlers (package.json module/esnext), which Node.js does not load" });
}

/** Keeps only `keep` (paths relative to dir) of a package. */
function trimTo(dir, keep, removed, base) {
  for (const file of keep) {
    if (!existsSync(join(dir, file))) throw new Error(`${relative(base, dir)} has no ${file}: its entry changed; review WEBPACK_ENTRY in deploy/bundle/trim.mjs`);
  }
  const wanted = new Set(keep);
  let bytes = 0;
  const walk = (at) => {
    for (const name of readdirSync(at)) {
      const path = join(at, name);
      const rel = relative(dir, path);
      if (lstatSync(path).isDirectory()) {
        if ([...wanted].some((k) => k.startsWith(`${rel}/`))) walk(path);
        else {
          bytes += sizeOf(path);
          rmSync(path, { recursive: true, force: true });
        }
      } else if (!wanted.has(rel)) {
        bytes += lstatSync(path).size;
        rmSync(path);
      }
    }
  };
  walk(dir);
  removed.push({ path: relative(base, dir), bytes, why: "webpack past its entry (the workflow bundler; the worker only requires it)" });
}

/** Files and folders Node.js never loads, in every package; summed per reason (thousands of small files). */
export function pruneFiles(appDir, removed) {
  const modules = join(appDir, "node_modules");
  const totals = new Map();
  const count = (why, bytes) => {
    const t = totals.get(why) ?? { bytes: 0, files: 0 };
    t.bytes += bytes;
    t.files += 1;
    totals.set(why, t);
  };
  const roots = new Set(installedPackages(modules).map((p) => p.path));
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const stat = lstatSync(path);
      if (stat.isDirectory()) {
        if (DEAD_DIRS.has(name) || (DEAD_ROOT_DIRS.has(name) && roots.has(dir))) {
          count("tests, benchmarks and docs folders", sizeOf(path));
          rmSync(path, { recursive: true, force: true });
        } else walk(path);
        continue;
      }
      if (KEEP_FILES.test(name)) continue;
      const rule = DEAD_FILES.find(([pattern]) => pattern.test(name));
      if (rule) {
        count(rule[1], stat.size);
        rmSync(path);
      }
    }
  };
  walk(modules);
  for (const [why, { bytes, files }] of totals) removed.push({ path: `node_modules/**: ${files} files`, bytes, why });
}

const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);

/** An ELF file (64-bit, little-endian) that still has a symbol table (section type SHT_SYMTAB). */
export function hasSymbolTable(path) {
  const fd = openSync(path, "r");
  try {
    const header = Buffer.alloc(64);
    if (readSync(fd, header, 0, 64, 0) < 64 || !header.subarray(0, 4).equals(ELF_MAGIC)) return false;
    if (header[4] !== 2 || header[5] !== 1) return false;
    const sectionsAt = Number(header.readBigUInt64LE(0x28));
    const entrySize = header.readUInt16LE(0x3a);
    const count = header.readUInt16LE(0x3c);
    if (sectionsAt === 0 || count === 0) return false;
    const table = Buffer.alloc(entrySize * count);
    readSync(fd, table, 0, table.length, sectionsAt);
    for (let i = 0; i < count; i++) if (table.readUInt32LE(i * entrySize + 4) === 2) return true;
    return false;
  } finally {
    closeSync(fd);
  }
}

/** Native files under `dir` (not links) that carry a symbol table. */
function unstrippedIn(dir) {
  const out = [];
  const walk = (at) => {
    for (const name of readdirSync(at)) {
      const path = join(at, name);
      const stat = lstatSync(path);
      if (stat.isDirectory()) walk(path);
      else if (stat.isFile() && stat.size > 64 && hasSymbolTable(path)) out.push(path);
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

/** node/, postgres/, ...; under app/node_modules the package (@scope/name or name). */
function ownerOf(rel) {
  const parts = rel.split(sep);
  if (parts[0] !== "app" || parts[1] !== "node_modules") return parts[0];
  const at = parts.lastIndexOf("node_modules");
  return parts.slice(0, at + (parts[at + 1]?.startsWith("@") ? 3 : 2)).join("/");
}

/**
 * Strips every native file under the stage that still has its symbol table; returns what it saved per folder,
 * or `unavailable` when the build machine has no `strip` (binutils): the bundle is then larger, and said so.
 */
export function stripNative(stage) {
  if (spawnSync("strip", ["--version"], { stdio: "ignore" }).status !== 0) return { unavailable: true, saved: [] };
  const saved = new Map();
  for (const file of unstrippedIn(stage)) {
    const { size: before, mode } = statSync(file);
    const out = `${file}.stripped`;
    // Into a new file, then renamed over: a failed strip leaves the original. strip -o sets its own mode.
    const result = spawnSync("strip", ["--strip-unneeded", "-o", out, file], { encoding: "utf8" });
    if (result.status !== 0) {
      rmSync(out, { force: true });
      throw new Error(`strip ${relative(stage, file)}: ${result.stderr.trim()}`);
    }
    chmodSync(out, mode & 0o7777);
    renameSync(out, file);
    const where = ownerOf(relative(stage, file));
    saved.set(where, (saved.get(where) ?? 0) + before - statSync(file).size);
  }
  return { unavailable: false, saved: [...saved].map(([path, bytes]) => ({ path, bytes })) };
}
