/**
 * The few things the installer asks of the operating system: a dedicated account, ownership, and running a
 * command as that account. Only base-system tools (useradd from shadow-utils / passwd) and node:child_process.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";

export function lookupUser(name, passwd = "/etc/passwd") {
  for (const line of readFileSync(passwd, "utf8").split("\n")) {
    const [user, , uid, gid, , home] = line.split(":");
    if (user === name && uid !== undefined) return { name, uid: Number(uid), gid: Number(gid), home };
  }
  return null;
}

export function groupName(gid, groupFile = "/etc/group") {
  for (const line of readFileSync(groupFile, "utf8").split("\n")) {
    const [name, , id] = line.split(":");
    if (id !== undefined && Number(id) === gid) return name;
  }
  return String(gid);
}

/**
 * A system account with its own group, no login shell and no home of its own (its home is the data directory,
 * created by the installer with the right mode): the services and the keys belong to it, the code to root.
 */
export function ensureSystemUser(name, home) {
  const existing = lookupUser(name);
  if (existing) return { ...existing, created: false };
  const shell = ["/usr/sbin/nologin", "/sbin/nologin"].find((s) => existsSync(s)) ?? "/bin/false";
  const result = spawnSync("useradd", ["--system", "--user-group", "--no-create-home", "--home-dir", home, "--shell", shell, "--comment", "Atomic AI gateway", name], { encoding: "utf8" });
  if (result.error) throw new Error(`cannot create the system user ${name}: useradd: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`cannot create the system user ${name}: useradd exited with ${result.status}: ${result.stderr.trim()}`);
  const created = lookupUser(name);
  if (!created) throw new Error(`useradd reported success but ${name} is not in /etc/passwd`);
  return { ...created, created: true };
}

/**
 * Which search (x) bit a folder lacks for an account to enter it, by the bit the kernel checks: the owner's when
 * the account owns it, else the group's when the folder's group is the account's primary group (the installer's
 * first run and the services get no others), else everyone's. Returns the chmod that fixes it ("o+x"), or null.
 * Root enters anything. A pure function of lstat's fields, for tests.
 */
export function missingSearchBit({ mode, uid, gid }, account) {
  if (account.uid === 0) return null;
  if (uid === account.uid) return mode & 0o100 ? null : "u+x";
  if (gid === account.gid) return mode & 0o010 ? null : "g+x";
  return mode & 0o001 ? null : "o+x";
}

/**
 * The first existing folder at or above dir that the account cannot enter, with the chmod that fixes it, or null.
 * Folders not there yet do not count: the installer creates them 0755.
 */
export function untraversableAncestor(dir, account) {
  const chain = [];
  for (let current = resolve(dir); ; current = dirname(current)) {
    chain.unshift(current);
    if (dirname(current) === current) break;
  }
  for (const folder of chain) {
    if (!existsSync(folder)) return null;
    const fix = missingSearchBit(statSync(folder), account);
    if (fix) return { folder, fix };
  }
  return null;
}

/**
 * Runs a command as the service account, its output passed through (prefixed lines would hide progress bars),
 * with exactly the environment given: an installer run from a root shell must not leak root's variables into
 * what the services will later see differently.
 */
export function runAs(user, command, args, { env, cwd, capture = false } = {}) {
  const result = spawnSync(command, args, {
    uid: user.uid,
    gid: user.gid,
    cwd,
    env,
    encoding: "utf8",
    stdio: capture ? ["ignore", "pipe", "pipe"] : ["ignore", "inherit", "inherit"],
  });
  if (result.error) throw new Error(`${command} ${args.join(" ")}: ${result.error.message}`);
  return result;
}

export function processAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === "EPERM";
  }
}

/** The pid of a live postmaster holding pgdata, or null. */
export function livePostmaster(pgdata) {
  try {
    const pid = Number(readFileSync(`${pgdata}/postmaster.pid`, "utf8").split("\n")[0]);
    return Number.isInteger(pid) && pid > 0 && processAlive(pid) ? pid : null;
  } catch {
    return null;
  }
}

/** systemd is the init system (not merely installed): then the installer may reload it. */
export function systemdRunning() {
  return existsSync("/run/systemd/system");
}

export function systemctl(args) {
  const result = spawnSync("systemctl", args, { encoding: "utf8" });
  if (result.error) throw new Error(`systemctl ${args.join(" ")}: ${result.error.message}`);
  return result;
}
