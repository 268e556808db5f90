#!/usr/bin/env node
/**
 * Installs the official OpenAI Python client, which test/gateway/openai-python-client.test.ts runs against Atomic
 * unchanged, into a project-local Python virtual environment (.tools/pyclient/venv, git-ignored). What goes in is
 * scripts/pyclient/requirements.txt: the whole resolved set, every wheel pinned by SHA-256 (pip --require-hashes), so
 * the test never runs a client nobody chose. Nothing here is a dependency of Atomic. Idempotent: when the venv was
 * made from the current requirements file it says so in one line and installs nothing (the test setup calls it on
 * every run).
 *
 *   node scripts/install-pyclient.mjs            → prints the venv's python's absolute path on stdout
 *
 * Environment: ATOMIC_PYCLIENT_HOME (default <repo>/.tools/pyclient), ATOMIC_PYTHON (default python3, then python).
 * Progress goes to stderr; pip's own output to <home>/pip.log. A failure is one line on stderr and exit 1.
 */
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { acquireDirectoryLock } from "./lib/directory-lock.mjs";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const windows = process.platform === "win32";
const requirementsPath = join(repoRoot, "scripts", "pyclient", "requirements.txt");
const requirements = readFileSync(requirementsPath, "utf8");
// The file is the one place the version is pinned; the marker records which file the venv was made from.
const openaiVersion = /^openai==(\S+)/m.exec(requirements)?.[1];
const requirementsSha256 = createHash("sha256").update(requirements).digest("hex");

const home = resolve(process.env.ATOMIC_PYCLIENT_HOME ?? join(repoRoot, ".tools", "pyclient"));
const venv = join(home, "venv");
const venvPython = join(venv, windows ? "Scripts" : "bin", windows ? "python.exe" : "python");
const marker = join(home, "installed.json");
const pipLog = join(home, "pip.log");

function fail(message) {
  process.stderr.write(`install-pyclient: ${message}\n`);
  process.exit(1);
}

function installed() {
  try {
    return JSON.parse(readFileSync(marker, "utf8")).requirementsSha256 === requirementsSha256 && existsSync(venvPython);
  } catch {
    return false;
  }
}

function done(line) {
  process.stderr.write(`install-pyclient: ${line}\n`);
  process.stdout.write(`${venvPython}\n`);
  process.exit(0);
}

function findPython() {
  for (const candidate of [process.env.ATOMIC_PYTHON, "python3", "python"].filter(Boolean)) {
    const probe = spawnSync(candidate, ["-c", "import sys, venv; print(sys.version_info >= (3, 10))"], { encoding: "utf8" });
    if (probe.status === 0 && probe.stdout.trim() === "True") return candidate;
  }
  fail("no Python 3.10 or later with the venv module found (set ATOMIC_PYTHON); the client is installed with pip");
}

/** pip's retries and tracebacks, as the one line an operator needs. */
function summarisePip(output) {
  if (/NewConnectionError|Failed to establish a new connection|Temporary failure in name resolution|Network is unreachable/i.test(output)) {
    return "the package index cannot be reached";
  }
  const mismatch = /^\s*(\S+==\S+)[^\n]*\n\s*Expected sha256/m.exec(output);
  if (mismatch) return `${mismatch[1]}'s wheel matches none of its pinned SHA-256s (a changed download, or a platform or Python ${requirementsPath} pins no wheel for)`;
  const lastError = output.split("\n").filter((line) => line.startsWith("ERROR:")).at(-1);
  return lastError ? `pip: ${lastError.slice("ERROR:".length).trim()}` : "pip install failed";
}

if (openaiVersion === undefined) fail(`${requirementsPath} pins no openai==<version>`);
if (installed()) done(`openai ${openaiVersion} already installed in ${venv}`);

// Two callers at once (npm test's setup in two shells): the second waits for the first's lock to go away.
mkdirSync(home, { recursive: true });
const lock = join(home, ".installing");
if (!acquireDirectoryLock(lock, { timeoutMs: 10 * 60_000, pollMs: 250 })) fail(`${lock} has been held for 10 minutes; remove it if no install is running`);
// fail() exits at once: the lock goes with the process, not in a finally that exit skips.
process.once("exit", () => rmSync(lock, { recursive: true, force: true }));
// The other holder may have finished the install while we waited.
if (installed()) done(`openai ${openaiVersion} already installed in ${venv}`);

process.stderr.write(`install-pyclient: installing openai ${openaiVersion} into ${venv}\n`);
rmSync(marker, { force: true });
// A fresh venv each time: packages of an earlier requirements file must not linger beside the pinned set.
rmSync(venv, { recursive: true, force: true });
const created = spawnSync(findPython(), ["-m", "venv", venv], { encoding: "utf8" });
if (created.status !== 0) fail(`creating the virtual environment failed: ${(created.stderr || created.error?.message || "").trim()}`);
const pip = spawnSync(
  venvPython,
  ["-m", "pip", "install", "--require-hashes", "--only-binary=:all:", "--no-input", "--disable-pip-version-check", "--progress-bar", "off",
    "--retries", "1", "--timeout", "30", "--requirement", requirementsPath],
  { encoding: "utf8", env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: "1" }, maxBuffer: 64 << 20 },
);
const output = `${pip.stdout ?? ""}${pip.stderr ?? ""}`;
writeFileSync(pipLog, output);
if (pip.error) fail(`pip could not run: ${pip.error.message}`);
if (pip.status !== 0) fail(`${summarisePip(output)} (pip's output: ${pipLog})`);
const probe = spawnSync(venvPython, ["-c", "import openai; print(openai.__version__)"], { encoding: "utf8" });
if (probe.stdout?.trim() !== openaiVersion) fail(`pip installed the requirements but the venv's openai is ${probe.stdout?.trim() || `not importable: ${probe.stderr?.trim()}`}`);
writeFileSync(marker, `${JSON.stringify({ openai: openaiVersion, requirementsSha256 }, null, 2)}\n`);
done(`installed openai ${openaiVersion} into ${venv}`);
