import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { acquireDirectoryLock } from "./directory-lock.mjs";

/**
 * A project-local Python virtual environment made from hash-pinned requirements files (pip --require-hashes
 * --only-binary=:all:), so that nothing runs in it that nobody chose. Idempotent: when the venv was made from the
 * current files it says so in one line and installs nothing. Used by scripts/install-pyclient.mjs and
 * scripts/install-sdk-python.mjs; each prints the venv's python's absolute path on stdout.
 *
 * `requirements`: the files pip installs (each may `-r` another, which then belongs in the list too, so that a
 * change to it makes a new venv). `probe`: Python code that prints `expect` once the venv works. `what`: what is
 * installed, for the progress lines. A failure is one line on stderr and exit 1.
 */
export function installPinnedVenv({ tool, home, requirements, probe, expect, what }) {
  const windows = process.platform === "win32";
  const venv = join(home, "venv");
  const venvPython = join(venv, windows ? "Scripts" : "bin", windows ? "python.exe" : "python");
  const marker = join(home, "installed.json");
  const pipLog = join(home, "pip.log");
  const hash = createHash("sha256");
  for (const file of requirements) hash.update(readFileSync(file, "utf8"));
  const requirementsSha256 = hash.digest("hex");

  const fail = (message) => {
    process.stderr.write(`${tool}: ${message}\n`);
    process.exit(1);
  };
  const done = (line) => {
    process.stderr.write(`${tool}: ${line}\n`);
    process.stdout.write(`${venvPython}\n`);
    process.exit(0);
  };
  const installed = () => {
    try {
      return JSON.parse(readFileSync(marker, "utf8")).requirementsSha256 === requirementsSha256 && existsSync(venvPython);
    } catch {
      return false;
    }
  };

  if (installed()) done(`${what} already installed in ${venv}`);
  // Two callers at once (npm test's setup in two shells): the second waits for the first's lock to go away.
  mkdirSync(home, { recursive: true });
  const lock = join(home, ".installing");
  if (!acquireDirectoryLock(lock, { timeoutMs: 10 * 60_000, pollMs: 250 })) fail(`${lock} has been held for 10 minutes; remove it if no install is running`);
  // fail() exits at once: the lock goes with the process, not in a finally that exit skips.
  process.once("exit", () => rmSync(lock, { recursive: true, force: true }));
  // The other holder may have finished the install while we waited.
  if (installed()) done(`${what} already installed in ${venv}`);

  process.stderr.write(`${tool}: installing ${what} into ${venv}\n`);
  rmSync(marker, { force: true });
  // A fresh venv each time: packages of earlier requirements must not linger beside the pinned set.
  rmSync(venv, { recursive: true, force: true });
  const created = spawnSync(findPython(fail), ["-m", "venv", venv], { encoding: "utf8" });
  if (created.status !== 0) fail(`creating the virtual environment failed: ${(created.stderr || created.error?.message || "").trim()}`);
  const pip = spawnSync(
    venvPython,
    ["-m", "pip", "install", "--require-hashes", "--only-binary=:all:", "--no-input", "--disable-pip-version-check", "--progress-bar", "off",
      "--retries", "1", "--timeout", "30", ...requirements.flatMap((file) => ["--requirement", file])],
    { encoding: "utf8", env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: "1" }, maxBuffer: 64 << 20 },
  );
  const output = `${pip.stdout ?? ""}${pip.stderr ?? ""}`;
  writeFileSync(pipLog, output);
  if (pip.error) fail(`pip could not run: ${pip.error.message}`);
  if (pip.status !== 0) fail(`${summarisePip(output, requirements)} (pip's output: ${pipLog})`);
  const probed = spawnSync(venvPython, ["-c", probe], { encoding: "utf8" });
  if (probed.stdout?.trim() !== expect) fail(`pip installed the requirements but the venv's probe printed ${probed.stdout?.trim() || `nothing: ${probed.stderr?.trim()}`}, not ${expect}`);
  writeFileSync(marker, `${JSON.stringify({ what, requirementsSha256 }, null, 2)}\n`);
  done(`installed ${what} into ${venv}`);
}

function findPython(fail) {
  for (const candidate of [process.env.ATOMIC_PYTHON, "python3", "python"].filter(Boolean)) {
    const probe = spawnSync(candidate, ["-c", "import sys, venv; print(sys.version_info >= (3, 10))"], { encoding: "utf8" });
    if (probe.status === 0 && probe.stdout.trim() === "True") return candidate;
  }
  fail("no Python 3.10 or later with the venv module found (set ATOMIC_PYTHON); packages are installed with pip");
}

/** pip's retries and tracebacks, as the one line an operator needs. */
function summarisePip(output, requirements) {
  if (/NewConnectionError|Failed to establish a new connection|Temporary failure in name resolution|Network is unreachable/i.test(output)) {
    return "the package index cannot be reached";
  }
  const mismatch = /^\s*(\S+==\S+)[^\n]*\n\s*Expected sha256/m.exec(output);
  if (mismatch) return `${mismatch[1]}'s wheel matches none of its pinned SHA-256s (a changed download, or a platform or Python ${requirements.join(" / ")} pins no wheel for)`;
  const lastError = output.split("\n").filter((line) => line.startsWith("ERROR:")).at(-1);
  return lastError ? `pip: ${lastError.slice("ERROR:".length).trim()}` : "pip install failed";
}
