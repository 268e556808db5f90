/**
 * Runs the systemd units the installer wrote, the way systemd would, where no systemd is running (a test host,
 * a container): the [Service] section's User=, Group=, UMask=, Environment=, EnvironmentFile=,
 * WorkingDirectory=, ExecStart= and ExecStartPost= (run to completion before the next unit starts, as
 * systemd orders After= units), and on stop KillSignal= to the main process with TimeoutStopSec=, then SIGKILL
 * to whatever is left of its process group (KillMode=mixed). So the test starts the very files an operator's
 * systemd would, not a hand-written imitation of them. Anything else in [Service] that changes how the process
 * runs must be listed in IGNORED (said out loud) or the parse fails.
 */
import { spawn, spawnSync } from "node:child_process";
import { openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";

/** Sandboxing and restart policy: systemd's business, not emulated here (the network namespace stands in). */
const IGNORED = new Set([
  "Restart", "RestartSec", "RestartPreventExitStatus", "NoNewPrivileges", "PrivateTmp", "ProtectHome",
  "IPAddressDeny", "IPAddressAllow", "KillMode",
]);
const HANDLED = new Set(["Type", "User", "Group", "UMask", "Environment", "EnvironmentFile", "WorkingDirectory", "ExecStart", "ExecStartPost", "KillSignal", "TimeoutStopSec"]);

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

function account(name) {
  const line = readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.split(":")[0] === name);
  if (!line) throw new Error(`User=${name}: no such account`);
  const [, , uid, gid, , home, shell] = line.split(":");
  return { uid: Number(uid), gid: Number(gid), home, shell };
}

function groupId(name) {
  const line = readFileSync("/etc/group", "utf8").split("\n").find((l) => l.split(":")[0] === name);
  if (!line) throw new Error(`Group=${name}: no such group`);
  return Number(line.split(":")[2]);
}

export function loadService(unitFile) {
  const sections = parseUnit(readFileSync(unitFile, "utf8"));
  const service = sections.Service;
  if (!service) throw new Error(`${unitFile} has no [Service] section`);
  const spec = { file: unitFile, environment: {}, post: [] };
  for (const [key, value] of service) {
    if (IGNORED.has(key)) continue;
    if (!HANDLED.has(key)) throw new Error(`${unitFile}: ${key}= is neither emulated nor knowingly ignored by this runner`);
    switch (key) {
      case "Type": if (value !== "simple") throw new Error(`${unitFile}: Type=${value} is not emulated`); break;
      case "User": spec.user = value; break;
      case "Group": spec.group = value; break;
      case "UMask": spec.umask = parseInt(value, 8); break;
      case "Environment": for (const word of splitWords(value)) { const i = word.indexOf("="); spec.environment[word.slice(0, i)] = word.slice(i + 1); } break;
      case "EnvironmentFile": spec.environmentFile = value; break;
      case "WorkingDirectory": spec.cwd = value; break;
      case "ExecStart": spec.exec = splitWords(value); break;
      case "ExecStartPost": spec.post.push(splitWords(value)); break;
      case "KillSignal": spec.killSignal = value; break;
      case "TimeoutStopSec": spec.stopTimeoutMs = Number(value) * 1000; break;
    }
  }
  if (!spec.exec) throw new Error(`${unitFile} has no ExecStart=`);
  return spec;
}

/** The environment systemd gives a service with User=: its fixed PATH, the account's variables, then the unit's. */
function environmentOf(spec, who) {
  return {
    PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    USER: spec.user, LOGNAME: spec.user, HOME: who.home, SHELL: who.shell,
    ...(spec.environmentFile ? readEnvironmentFile(spec.environmentFile) : {}),
    ...spec.environment,
  };
}

/**
 * Starts one unit; resolves once its ExecStartPost commands succeeded. Output goes to logDir/<unit>.log.
 * umask cannot be set per child in Node, so the runner's own is set around the spawn (synchronous, no await).
 */
export async function startUnit(unitFile, logDir) {
  const spec = loadService(unitFile);
  const name = unitFile.split("/").pop();
  const who = account(spec.user);
  const gid = spec.group ? groupId(spec.group) : who.gid;
  const env = environmentOf(spec, who);
  const log = openSync(join(logDir, `${name}.log`), "a");
  const previousMask = spec.umask === undefined ? undefined : process.umask(spec.umask);
  const child = spawn(spec.exec[0], spec.exec.slice(1), { uid: who.uid, gid, env, cwd: spec.cwd, stdio: ["ignore", log, log], detached: true });
  if (previousMask !== undefined) process.umask(previousMask);
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  child.once("error", () => undefined);
  const unit = { name, spec, child, exited, exitStatus: null };
  void exited.then((status) => { unit.exitStatus = status; });
  for (const command of spec.post) {
    const result = spawnSync(command[0], command.slice(1), { uid: who.uid, gid, env, cwd: spec.cwd, stdio: ["ignore", log, log], timeout: 180_000 });
    if (result.status !== 0) {
      await stopUnit(unit);
      throw new Error(`${name}: ExecStartPost ${command.join(" ")} exited with ${result.status ?? result.signal}; see ${join(logDir, `${name}.log`)}`);
    }
  }
  await delay(200);
  if (unit.exitStatus !== null) throw new Error(`${name} exited at start: ${JSON.stringify(unit.exitStatus)}; see ${join(logDir, `${name}.log`)}`);
  return unit;
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
