#!/usr/bin/env node
/**
 * Builds (or locates) the production Temporal server and its SQL tool from source with the Go toolchain, as one
 * binary:
 *
 *   go mod download go.temporal.io/server@v1.31.2          (the module, checked against go.sum's database)
 *   copy it, add multicall/sql_tool.go to its cmd/server
 *   CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -tags disable_grpc_modules -o temporal-server ./cmd/server
 *   temporal-sql-tool -> temporal-server                     (a link: started by that name it is the SQL tool)
 *
 * No npm or Debian package ships the server, and `go.temporal.io/server` has no replace directives, so this is the
 * whole recipe. Built apart (`go install .../cmd/server` and `.../cmd/tools/sql`) the two were 113 and 37 MiB, nearly
 * all of it the same code; together 114 MiB, which is what the offline bundle carries. multicall/sql_tool.go runs
 * what cmd/tools/sql's main runs; the SQL schemas are embedded with it.
 *
 *   node deploy/temporal/build-server.mjs [--bin-dir DIR] [--version vX.Y.Z] [--go PATH] [--force]
 *
 * Prints the directory holding both (the binary and the link) on stdout (progress and errors go to stderr), so
 * `BIN=$(node deploy/temporal/build-server.mjs)` works. Idempotent: when both binaries are there with a stamp for
 * the pinned version it only prints the directory.
 *
 * Environment:
 *   ATOMIC_TEMPORAL_SERVER_BIN_DIR   a directory that already holds temporal-server and temporal-sql-tool (built
 *                                    elsewhere, unpacked from the offline bundle): checked, nothing is built
 *   ATOMIC_TEMPORAL_SERVER_HOME      where the build goes (default <repo>/.tools/temporal-server; bin/ below it)
 *   GO                               the go binary (default: `go` on PATH, then /usr/local/go/bin/go)
 *
 * The build needs the Go module proxy (or a populated module cache / GOFLAGS=-mod=mod with a vendored GOPROXY=off
 * cache) — it is the one step of the recipe that is not offline. Run it where modules can be fetched and carry the
 * two static binaries to the air-gapped host.
 */
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { acquireDirectoryLock } from "../../scripts/lib/directory-lock.mjs";

export const TEMPORAL_SERVER_VERSION = "v1.31.2";
/** go.temporal.io/server v1.31.x declares `go 1.26.2` in its go.mod; an older local toolchain cannot build it. */
export const MINIMUM_GO = [1, 26, 2];
export const SERVER_BINARY = "temporal-server";
export const SQL_TOOL_BINARY = "temporal-sql-tool";
const STAMP = "build.json";
/** Bumped when the layout of the build changes, so that an older build in .tools is rebuilt: 2, one binary and a link. */
const LAYOUT = 2;
const MULTICALL_SOURCE = join(dirname(fileURLToPath(import.meta.url)), "multicall", "sql_tool.go");

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

function fail(message) {
  process.stderr.write(`build-server: ${message}\n`);
  process.exit(1);
}

function info(message) {
  process.stderr.write(`build-server: ${message}\n`);
}

function executable(path) {
  try {
    return statSync(path).isFile() && (statSync(path).mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

/** `temporal-server --version` prints e.g. "temporal version 1.31.2"; the stamp is only trusted if they agree. */
function binaryVersion(path) {
  const result = spawnSync(path, ["--version"], { encoding: "utf8", env: { ...process.env, TEMPORAL_VERSION_CHECK_DISABLED: "1" } });
  if (result.status !== 0) return undefined;
  return result.stdout.trim() || result.stderr.trim();
}

function findGo(explicit) {
  const candidates = [explicit, process.env.GO, "go", "/usr/local/go/bin/go"].filter(Boolean);
  for (const candidate of candidates) {
    const probe = spawnSync(candidate, ["env", "GOVERSION"], { encoding: "utf8" });
    if (probe.status === 0) return { go: candidate, version: probe.stdout.trim() };
  }
  fail(
    "no Go toolchain found (tried " + candidates.join(", ") + "). Install Go " + MINIMUM_GO.join(".") +
      " or newer from the official Go downloads (unpack to /usr/local/go), or set GO=/path/to/go, or build the two " +
      "binaries elsewhere and point ATOMIC_TEMPORAL_SERVER_BIN_DIR at them.",
  );
}

function goVersionAtLeast(version, minimum) {
  const match = /^go(\d+)\.(\d+)(?:\.(\d+))?/.exec(version);
  if (!match) return true; // a devel toolchain: let go itself decide
  const parts = [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)];
  for (let i = 0; i < 3; i++) {
    if (parts[i] !== minimum[i]) return parts[i] > minimum[i];
  }
  return true;
}

function runStreaming(command, args, env, what, cwd) {
  return new Promise((resolveRun) => {
    const child = spawn(command, args, { env, cwd, stdio: ["ignore", 2, 2] });
    const started = Date.now();
    // go build prints nothing while compiling for minutes; a heartbeat says it is still working.
    const heartbeat = setInterval(() => info(`${what}: still building (${Math.round((Date.now() - started) / 1000)} s)`), 30_000);
    child.once("error", (error) => {
      clearInterval(heartbeat);
      fail(`${what}: could not run ${command}: ${error.message}`);
    });
    child.once("exit", (code, signal) => {
      clearInterval(heartbeat);
      if (code !== 0) fail(`${what} failed (${signal ?? `exit code ${code}`}); see go's output above`);
      resolveRun(Date.now() - started);
    });
  });
}

const { values: flags } = parseArgs({
  options: {
    "bin-dir": { type: "string" },
    version: { type: "string", default: TEMPORAL_SERVER_VERSION },
    go: { type: "string" },
    force: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
  strict: true,
});
if (flags.help) {
  process.stderr.write("usage: node deploy/temporal/build-server.mjs [--bin-dir DIR] [--version vX.Y.Z] [--go PATH] [--force]\n");
  process.exit(0);
}
const version = flags.version.startsWith("v") ? flags.version : `v${flags.version}`;

const provided = process.env.ATOMIC_TEMPORAL_SERVER_BIN_DIR;
if (provided && !flags["bin-dir"]) {
  const dir = resolve(provided);
  for (const name of [SERVER_BINARY, SQL_TOOL_BINARY]) {
    if (!executable(join(dir, name))) fail(`ATOMIC_TEMPORAL_SERVER_BIN_DIR=${dir} has no executable ${name}`);
  }
  info(`using ${dir} (${binaryVersion(join(dir, SERVER_BINARY)) ?? "version unknown"})`);
  process.stdout.write(`${dir}\n`);
  process.exit(0);
}

const home = resolve(process.env.ATOMIC_TEMPORAL_SERVER_HOME ?? join(repoRoot, ".tools", "temporal-server"));
const binDir = resolve(flags["bin-dir"] ?? join(home, "bin"));
const stampFile = join(binDir, STAMP);
const serverPath = join(binDir, SERVER_BINARY);
const sqlToolPath = join(binDir, SQL_TOOL_BINARY);

function readStamp() {
  try {
    return JSON.parse(readFileSync(stampFile, "utf8"));
  } catch {
    return undefined;
  }
}

function isBuilt() {
  const stamp = readStamp();
  return stamp?.version === version && stamp.layout === LAYOUT && executable(serverPath) && executable(sqlToolPath) ? stamp : undefined;
}

const existing = !flags.force && isBuilt();
if (existing) {
  info(`${SERVER_BINARY} and ${SQL_TOOL_BINARY} ${version} already built in ${binDir} (${existing.buildSeconds} s with ${existing.go} on ${existing.builtAt})`);
  process.stdout.write(`${binDir}\n`);
  process.exit(0);
}

// Two builds at once (two test runs) would race on the renames: the second waits for the first.
mkdirSync(binDir, { recursive: true });
const lock = join(binDir, ".building");
if (!acquireDirectoryLock(lock, { timeoutMs: 60 * 60_000, pollMs: 500 })) fail(`${lock} has been held for an hour; remove it if no build is running`);
const releaseLock = () => rmSync(lock, { recursive: true, force: true });
process.once("exit", releaseLock);
for (const signal of ["SIGINT", "SIGTERM"]) process.once(signal, () => process.exit(130));

if (!flags.force && isBuilt()) {
  info(`another build finished ${version} in ${binDir} while this one waited`);
} else {
  const { go, version: goVersion } = findGo(flags.go);
  if (!goVersionAtLeast(goVersion, MINIMUM_GO)) {
    fail(
      `${go} is ${goVersion}; Temporal server ${version} needs Go ${MINIMUM_GO.join(".")} or newer. Install a newer Go ` +
        "(or set GOTOOLCHAIN=auto to let go fetch the toolchain through the module proxy), or set GO=/path/to/go.",
    );
  }
  rmSync(stampFile, { force: true });
  const env = {
    ...process.env,
    CGO_ENABLED: "0",
    // GOFLAGS from the environment stay; -tags is given on the command line. -s -w drops the symbol and DWARF
    // tables (about a quarter of the size, for the offline bundle); stack traces still work.
  };
  info("with empty Go caches the first build downloads the modules and compiles for several minutes (about 4 on 2 cores)");
  const started = Date.now();
  // The module as go verified it (go.sum's checksum database), copied out of the read-only module cache so that
  // multicall/sql_tool.go can join its cmd/server; built there as the main module, with its own go.mod and go.sum.
  const download = spawnSync(go, ["mod", "download", "-json", `go.temporal.io/server@${version}`], { cwd: tmpdir(), encoding: "utf8", env: { ...env, GOFLAGS: "" } });
  const moduleDir = download.status === 0 ? JSON.parse(download.stdout).Dir : undefined;
  if (!moduleDir) fail(`go mod download go.temporal.io/server@${version} failed: ${download.stderr || download.stdout}`);
  const work = mkdtempSync(join(tmpdir(), "temporal-server-src-"));
  try {
    cpSync(moduleDir, work, { recursive: true });
    chmodSync(join(work, "cmd", "server"), 0o755);
    copyFileSync(MULTICALL_SOURCE, join(work, "cmd", "server", "zz_atomic_sql_tool.go"));
    rmSync(serverPath, { force: true });
    rmSync(sqlToolPath, { force: true });
    info(`go build ./cmd/server of go.temporal.io/server@${version} with ${go} (${goVersion}), CGO_ENABLED=0, -tags disable_grpc_modules → ${serverPath}`);
    const ms = await runStreaming(
      go, ["build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-tags", "disable_grpc_modules", "-o", serverPath, "./cmd/server"], env, "go build ./cmd/server", work,
    );
    info(`built ${serverPath} in ${(ms / 1000).toFixed(1)} s`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  // Relative, so that the pair moves together (into the offline bundle, another folder).
  symlinkSync(SERVER_BINARY, sqlToolPath);
  const tool = spawnSync(sqlToolPath, ["--version"], { encoding: "utf8" });
  if (tool.status !== 0 || !/temporal-sql-tool/.test(`${tool.stdout}${tool.stderr}`)) fail(`${sqlToolPath} --version does not answer as the SQL tool: ${tool.stdout}${tool.stderr}`);
  const buildSeconds = Math.round((Date.now() - started) / 1000);
  const reported = binaryVersion(serverPath);
  if (!reported) fail(`${serverPath} --version failed: the build is unusable`);
  if (!reported.includes(version.slice(1))) fail(`${serverPath} reports "${reported}", expected ${version}`);
  writeFileSync(
    stampFile,
    `${JSON.stringify({
      version, serverVersion: reported, go: goVersion, tags: ["disable_grpc_modules"], ldflags: "-s -w", cgo: false, layout: LAYOUT,
      sqlTool: `${SQL_TOOL_BINARY} -> ${SERVER_BINARY}`, builtAt: new Date().toISOString(), buildSeconds,
    }, null, 2)}\n`,
  );
  info(`${reported}; built in ${buildSeconds} s, ${SQL_TOOL_BINARY} a link to it`);
}
process.stdout.write(`${binDir}\n`);
