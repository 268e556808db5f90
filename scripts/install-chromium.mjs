#!/usr/bin/env node
/**
 * Makes sure Debian's `chromium` package is installed: the headless browser the dashboard's tests (test/ui) drive
 * through playwright-core. Nothing is downloaded but the distribution's own package, through apt-get; Playwright's
 * browser downloads are never used. Idempotent: when /usr/bin/chromium is there it prints the path and does nothing
 * else (the test setup calls it on every run).
 *
 *   node scripts/install-chromium.mjs            → prints the browser's absolute path on stdout
 *
 * Installing needs root (apt-get); a failure is one line on stderr and exit 1, apt's own output in <home>/apt.log.
 * Environment: ATOMIC_CHROMIUM_HOME (default <repo>/.tools/chromium) holds the log and the install lock.
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { acquireDirectoryLock } from "./lib/directory-lock.mjs";

const CHROMIUM = "/usr/bin/chromium";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const home = resolve(process.env.ATOMIC_CHROMIUM_HOME ?? join(repoRoot, ".tools", "chromium"));
const aptLog = join(home, "apt.log");

function fail(message) {
  process.stderr.write(`install-chromium: ${message}\n`);
  process.exit(1);
}

function installed() {
  try {
    accessSync(CHROMIUM, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function done() {
  process.stdout.write(`${CHROMIUM}\n`);
  process.exit(0);
}

/** apt's progress and warnings, as the one line an operator needs. */
function summariseApt(output) {
  if (/Temporary failure resolving|Could not resolve|Failed to fetch|Network is unreachable/i.test(output)) return "the package archive cannot be reached";
  if (/Could not get lock|Unable to acquire the dpkg frontend lock/i.test(output)) return "another apt or dpkg process holds the package lock; try again when it is done";
  const lastError = output.split("\n").filter((line) => line.startsWith("E: ")).at(-1);
  return lastError ? `apt-get: ${lastError.slice(3).trim()}` : "apt-get install chromium failed";
}

function apt(args) {
  const run = spawnSync("apt-get", args, { encoding: "utf8", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" }, maxBuffer: 64 << 20 });
  if (run.error) fail(`apt-get could not run: ${run.error.message}`);
  return { ok: run.status === 0, output: `${run.stdout ?? ""}${run.stderr ?? ""}` };
}

if (installed()) done();
if (typeof process.getuid === "function" && process.getuid() !== 0) {
  fail(`${CHROMIUM} is missing and installing Debian's chromium package needs root: run \`apt-get install -y chromium\` as root`);
}
if (!existsSync("/usr/bin/apt-get")) fail(`${CHROMIUM} is missing and this system has no apt-get: install Debian's chromium package (or a Chromium at ${CHROMIUM}) by hand`);

// Two callers at once (npm test's setup in two shells): the second waits for the first's lock to go away.
mkdirSync(home, { recursive: true });
const lock = join(home, ".installing");
if (!acquireDirectoryLock(lock, { timeoutMs: 10 * 60_000, pollMs: 250 })) fail(`${lock} has been held for 10 minutes; remove it if no install is running`);
// fail() exits at once: the lock goes with the process, not in a finally that exit skips.
process.once("exit", () => rmSync(lock, { recursive: true, force: true }));
if (installed()) done();

process.stderr.write("install-chromium: installing Debian's chromium package with apt-get\n");
const install = ["install", "-y", "--no-install-recommends", "chromium"];
let result = apt(install);
let log = result.output;
// A system whose package lists were never fetched (a fresh container) knows no chromium yet.
if (!result.ok && /Unable to locate package|has no installation candidate/.test(result.output)) {
  const update = apt(["update"]);
  log += update.output;
  if (update.ok) {
    result = apt(install);
    log += result.output;
  }
}
writeFileSync(aptLog, log);
if (!result.ok) fail(`${summariseApt(log)} (apt's output: ${aptLog})`);
if (!installed()) fail(`apt-get installed chromium but ${CHROMIUM} is not there (apt's output: ${aptLog})`);
process.stderr.write("install-chromium: installed\n");
done();
