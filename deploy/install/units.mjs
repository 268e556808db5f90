/**
 * Runs the systemd units the installer wrote, the way systemd would, where no systemd is running (a container, a
 * host with another init): `up.mjs` (installed as `<prefix>/bin/atomic-up`) supervises them with it, and the
 * bundle test (test/bundle/support/scenario.mjs) starts them with it. The unit files stay the one description of
 * how each service runs; nothing here restates a command line.
 *
 * Emulated from [Service]: User=, Group=, UMask=, Environment=, EnvironmentFile=, WorkingDirectory=, ExecStartPre=,
 * ExecStart=, ExecStartPost= (each Pre/Post run to completion; the next unit starts once they succeeded, as systemd
 * orders After= units), Restart=, RestartSec=, RestartPreventExitStatus= (for the supervisor), and on stop
 * KillSignal= to the main process with TimeoutStopSec=, then SIGKILL to what is left of its process group
 * (KillMode=mixed). From [Unit]: After= (the start order) and, in a target, Wants= (which units). Sandboxing is
 * systemd's alone and is listed in IGNORED, said out loud; any other [Service] key fails the parse.
 */
import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";

/** The kernel-level sandbox and cgroup lines: without systemd nothing applies them. */
export const IGNORED = new Set(["NoNewPrivileges", "PrivateTmp", "ProtectHome", "IPAddressDeny", "IPAddressAllow", "KillMode"]);
const HANDLED = new Set([
  "Type", "User", "Group", "UMask", "Environment", "EnvironmentFile", "WorkingDirectory", "ExecStartPre", "ExecStart", "ExecStartPost",
  "KillSignal", "TimeoutStopSec", "Restart", "RestartSec", "RestartPreventExitStatus",
]);
/** systemd's fixed PATH for services. */
const SERVICE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/** How long a Pre/Post command may take (wait-for.mjs gives up after 120 s by itself). */
const COMMAND_TIMEOUT_MS = 180_000;

export function parseUnit(text) {
  const sections = {};
  let current = null;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = sections[header[1]] ??= [];
      continue;
    }
    const eq = line.indexOf("=");
    if (current === null || eq < 0) throw new Error(`unit line outside a section or without "=": ${line}`);
    current.push([line.slice(0, eq), line.slice(eq + 1)]);
  }
  return sections;
}

/** systemd's word splitting for Exec and Environment lines: whitespace, with double quotes grouping. */
export function splitWords(value) {
  const words = [];
  const pattern = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = pattern.exec(value); m !== null; m = pattern.exec(value)) words.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : m[2]);
  return words;
}

/** An Exec line: "-" before the path means its failure is ignored; systemd's other prefixes are not emulated. */
function execLine(file, key, value) {
  const ignoreFailure = value.startsWith("-");
  const argv = splitWords(ignoreFailure ? value.slice(1) : value);
  if (argv.length === 0 || !argv[0].startsWith("/")) throw new Error(`${file}: ${key}=${value}: not an absolute path (systemd's @ + ! : prefixes are not emulated)`);
  return { argv, ignoreFailure };
}

/** RestartSec=5, 5s, 500ms, 0.2 (seconds). */
function durationMs(file, key, value) {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s)?$/.exec(value.trim());
  if (!match) throw new Error(`${file}: ${key}=${value}: only seconds or ms are understood`);
  return Number(match[1]) * (match[2] === "ms" ? 1 : 1000);
}

/** What one unit file says: its [Service] (as a spec to run) and its After= order. */
export function loadService(unitFile) {
  const sections = parseUnit(readFileSync(unitFile, "utf8"));
  const service = sections.Service;
  if (!service) throw new Error(`${unitFile} has no [Service] section`);
  const spec = {
    file: unitFile, name: basename(unitFile), environment: {}, environmentFiles: [], pre: [], post: [],
    restart: "no", restartMs: 100, preventRestart: new Set(), after: [],
  };
  for (const [key, value] of sections.Unit ?? []) if (key === "After") spec.after.push(...splitWords(value));
  for (const [key, value] of service) {
    if (IGNORED.has(key)) continue;
    if (!HANDLED.has(key)) throw new Error(`${unitFile}: ${key}= is neither emulated nor knowingly ignored by this runner`);
    switch (key) {
      case "Type": if (value !== "simple") throw new Error(`${unitFile}: Type=${value} is not emulated`); break;
      case "User": spec.user = value; break;
      case "Group": spec.group = value; break;
      case "UMask": spec.umask = parseInt(value, 8); break;
      case "Environment": for (const word of splitWords(value)) { const i = word.indexOf("="); spec.environment[word.slice(0, i)] = word.slice(i + 1); } break;
      case "EnvironmentFile": spec.environmentFiles.push(value.startsWith("-") ? { path: value.slice(1), optional: true } : { path: value, optional: false }); break;
      case "WorkingDirectory": spec.cwd = value; break;
      case "ExecStartPre": spec.pre.push(execLine(unitFile, key, value)); break;
      case "ExecStart": spec.exec = execLine(unitFile, key, value).argv; break;
      case "ExecStartPost": spec.post.push(execLine(unitFile, key, value)); break;
      case "KillSignal": spec.killSignal = value; break;
      case "TimeoutStopSec": spec.stopTimeoutMs = durationMs(unitFile, key, value); break;
      case "Restart":
        if (!["no", "on-failure", "always"].includes(value)) throw new Error(`${unitFile}: Restart=${value} is not emulated (no, on-failure, always)`);
        spec.restart = value;
        break;
      case "RestartSec": spec.restartMs = durationMs(unitFile, key, value); break;
      case "RestartPreventExitStatus": for (const word of splitWords(value)) spec.preventRestart.add(word); break;
    }
  }
  if (!spec.exec) throw new Error(`${unitFile} has no ExecStart=`);
  if (!spec.user) throw new Error(`${unitFile} has no User=: this runner starts services as their account, never as root`);
  return spec;
}

/** The services a target wants (its Wants= lines), as unit files beside it. */
export function unitsOfTarget(targetFile) {
  const wants = (parseUnit(readFileSync(targetFile, "utf8")).Unit ?? []).filter(([key]) => key === "Wants").flatMap(([, value]) => splitWords(value));
  return wants.map((name) => join(dirname(targetFile), name));
}

/**
 * The order to start services in: each after every service of the set its After= names (names outside the set,
 * such as local-fs.target, are systemd's and ignored); among those free to start, the order given. A cycle is an
 * error, as in systemd.
 */
export function startOrder(specs) {
  const names = new Set(specs.map((s) => s.name));
  const left = [...specs];
  const done = new Set();
  const order = [];
  while (left.length > 0) {
    const next = left.findIndex((s) => s.after.every((n) => !names.has(n) || done.has(n)));
    if (next < 0) throw new Error(`the units' After= lines form a cycle: ${left.map((s) => s.name).join(", ")}`);
    const [spec] = left.splice(next, 1);
    done.add(spec.name);
    order.push(spec);
  }
  return order;
}

function readEnvironmentFile(path) {
  const env = {};
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (!match) continue;
    const value = match[2].startsWith('"') && match[2].endsWith('"') ? match[2].slice(1, -1) : match[2];
    env[match[1]] = value;
  }
  return env;
}

function passwdEntry(file, name, what) {
  const line = readFileSync(file, "utf8").split("\n").find((l) => l.split(":")[0] === name);
  if (!line) throw new Error(`${what}=${name}: no such ${what === "User" ? "account" : "group"}`);
  return line.split(":");
}

/**
 * The account a service runs as. Only root can switch to it; run by that account itself, the services simply
 * inherit it (how the unit tests run, without root).
 */
function identityOf(spec) {
  const [, , uid, gid, , home, shell] = passwdEntry("/etc/passwd", spec.user, "User");
  const who = { uid: Number(uid), gid: spec.group ? Number(passwdEntry("/etc/group", spec.group, "Group")[2]) : Number(gid), home, shell };
  const me = process.getuid?.();
  if (me !== 0 && me !== who.uid) throw new Error(`${spec.name} runs as ${spec.user}: start it as root or as ${spec.user}`);
  return { ...who, switch: me === 0 };
}

/** The environment systemd gives a service with User=: its fixed PATH, the account's variables, the unit's, then its files'. */
function environmentOf(spec, who) {
  const env = { PATH: SERVICE_PATH, USER: spec.user, LOGNAME: spec.user, HOME: who.home, SHELL: who.shell, ...spec.environment };
  for (const { path, optional } of spec.environmentFiles) {
    try {
      Object.assign(env, readEnvironmentFile(path));
    } catch (error) {
      if (!(optional && error.code === "ENOENT")) throw new Error(`${spec.name}: EnvironmentFile=${path}: ${error.message}`);
    }
  }
  return env;
}

/** Spawns as the unit's account, with its umask (Node has none per child: the runner's own is set around the fork). */
function spawnAs(unit, argv, extra = {}) {
  const { spec, who, env, log } = unit;
  const previousMask = spec.umask === undefined ? undefined : process.umask(spec.umask);
  try {
    const ids = who.switch ? { uid: who.uid, gid: who.gid } : {};
    return spawn(argv[0], argv.slice(1), { ...ids, env, cwd: spec.cwd, stdio: ["ignore", log, log], ...extra });
  } finally {
    if (previousMask !== undefined) process.umask(previousMask);
  }
}

/** An ExecStartPre/Post command to its end; a failure (unless "-") throws, naming the log. */
async function runStep(unit, { argv, ignoreFailure }, key, signal) {
  const child = spawnAs(unit, argv, { signal, timeout: COMMAND_TIMEOUT_MS });
  const outcome = await new Promise((resolve) => {
    child.once("error", (error) => resolve({ code: null, signal: error.code ?? error.message }));
    child.once("exit", (code, killed) => resolve({ code, signal: killed }));
  });
  if (outcome.code !== 0 && !ignoreFailure) {
    throw new Error(`${unit.name}: ${key} ${argv.join(" ")} exited with ${outcome.code ?? outcome.signal}; see ${unit.logFile}`);
  }
}

/**
 * Starts one unit: ExecStartPre commands, the main process (its own process group, so that stopping reaches its
 * children), then ExecStartPost commands; resolves with the running unit once they succeeded and it is still up
 * 200 ms later. Output goes to logDir/<unit>.log (appended). `signal` aborts the Pre/Post commands (a stop
 * during a start).
 */
export async function startUnit(unitFileOrSpec, logDir, { signal } = {}) {
  const spec = typeof unitFileOrSpec === "string" ? loadService(unitFileOrSpec) : unitFileOrSpec;
  const who = identityOf(spec);
  const logFile = join(logDir, `${spec.name}.log`);
  const log = openSync(logFile, "a", 0o640);
  const unit = { name: spec.name, spec, who, env: environmentOf(spec, who), log, logFile, child: null, exited: null, exitStatus: null, startedAt: 0 };
  try {
    for (const step of spec.pre) await runStep(unit, step, "ExecStartPre", signal);
    unit.child = spawnAs(unit, spec.exec, { detached: true });
    unit.startedAt = Date.now();
    unit.exited = new Promise((resolve) => {
      unit.child.once("error", (error) => resolve({ code: null, signal: null, error: error.message }));
      unit.child.once("exit", (code, killed) => resolve({ code, signal: killed }));
    });
    void unit.exited.then((status) => { unit.exitStatus = status; });
    try {
      for (const step of spec.post) await runStep(unit, step, "ExecStartPost", signal);
    } catch (error) {
      await stopUnit(unit);
      throw error;
    }
    await delay(200);
    if (unit.exitStatus !== null) throw new Error(`${unit.name} exited at start: ${JSON.stringify(unit.exitStatus)}; see ${logFile}`);
    return unit;
  } finally {
    // The children hold their own copies of the descriptor.
    closeSync(log);
  }
}

/** KillSignal= to the main process, TimeoutStopSec= to exit, then SIGKILL to the rest of its group. */
export async function stopUnit(unit) {
  const signal = unit.spec.killSignal ?? "SIGTERM";
  const timeout = unit.spec.stopTimeoutMs ?? 90_000;
  if (unit.exitStatus === null) {
    try { unit.child.kill(signal); } catch { /* already gone */ }
  }
  const timedOut = Symbol("timeout");
  const outcome = await Promise.race([unit.exited, delay(timeout, timedOut, { ref: false })]);
  if (outcome === timedOut) unit.child.kill("SIGKILL");
  const status = outcome === timedOut ? await unit.exited : outcome;
  try { process.kill(-unit.child.pid, "SIGKILL"); } catch { /* the group is empty */ }
  return { ...status, timedOut: outcome === timedOut };
}

/** Whether systemd would restart a service that exited so (Restart=, RestartPreventExitStatus=). */
export function shouldRestart(spec, { code, signal }) {
  if (spec.restart === "no") return false;
  if (code !== null && spec.preventRestart.has(String(code))) return false;
  if (signal && spec.preventRestart.has(signal)) return false;
  return spec.restart === "always" || code !== 0;
}

/**
 * The wait before restart number `failures` (1 for the first after a good run): RestartSec=, doubled for each
 * failure in a row, at most maxMs. A service that keeps failing is then retried slowly rather than in a loop.
 */
export function restartDelayMs(spec, failures, maxMs = 60_000) {
  return Math.min(maxMs, spec.restartMs * 2 ** Math.max(0, failures - 1));
}
