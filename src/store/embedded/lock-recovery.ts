import { readFileSync, realpathSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import type { EmbeddedPostgresLogger } from "./embedded-postgres.js";
import {
  inspectProcess,
  processExists,
  startingEnvironmentVariable,
  type ProcessSnapshot,
} from "./process-inspection.js";
import { OperatorError } from "../../util/operator-error.js";

/**
 * Set in the server's environment: the gateway that started it. A later gateway finds it in /proc/<pid>/environ and
 * tells a server still supervised by that gateway (its parent is still that pid) from an orphan (its parent died,
 * and it was handed to init).
 */
export const SUPERVISOR_PID_VARIABLE = "ATOMIC_SUPERVISOR_PID";

export interface LockRecoveryContext {
  /** Absolute. */
  dataDir: string;
  /** The binary this gateway runs: an orphan running another one is not this gateway's to stop. */
  postgresBinary: string;
  /** postmaster.pid and the socket's lock file, both in the data directory. */
  lockFileNames: string[];
  /** How long an orphan gets to finish a fast shutdown before it is pushed harder. */
  stopTimeoutMs: number;
  logger?: EmbeddedPostgresLogger;
}

/** The data directory is held by a process Atomic will not stop: one line, for an operator at the console. */
export class DataDirectoryLockedError extends OperatorError {
  override readonly name = "DataDirectoryLockedError";
}

type LockHolder =
  | { kind: "stale"; pid: number | null; reason: string }
  | { kind: "orphan"; pid: number; supervisorPid: number }
  | { kind: "foreign"; pid: number; reason: string };

/**
 * Clears what a crashed gateway left on the data directory, before each start attempt. A lock whose pid cannot hold
 * the directory is stale and removed; a server is stopped only when it is provably the one a gateway now gone
 * started here; any other live holder is refused, and never signalled.
 */
export async function recoverDataDirectoryLocks(context: LockRecoveryContext): Promise<void> {
  for (const name of context.lockFileNames) {
    const path = join(context.dataDir, name);
    // An orphan that had to be killed leaves its lock file behind, now stale: look again until nothing is left.
    while (await recoverLockFile(path, context)) continue;
  }
}

/** True when it stopped an orphan, so that the lock file deserves another look. */
async function recoverLockFile(path: string, context: LockRecoveryContext): Promise<boolean> {
  const content = readOrNull(path);
  if (content === null) return false;
  const holder = identifyLockHolder(lockedPid(content), context);
  switch (holder.kind) {
    case "foreign":
      throw new DataDirectoryLockedError(
        `the embedded PostgreSQL data directory ${context.dataDir} is locked by pid ${holder.pid} ` +
          `(named in ${path}), which Atomic will not stop: ${holder.reason}. Stop that process yourself if it ` +
          "should not be running, or give Atomic another data directory",
      );
    case "orphan":
      await stopOrphan(holder, path, context);
      return true;
    case "stale":
      removeStaleLock(path, content, holder, context.logger);
      return false;
  }
}

/** Line 1 of a PostgreSQL lock file; negative for a single-user backend. */
function lockedPid(content: string): number | null {
  const pid = Math.abs(Number.parseInt(content.split("\n")[0] ?? "", 10));
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

/**
 * A lock is stale when its pid cannot be a server of this data directory: a server runs as the directory's owner
 * (PostgreSQL refuses any other) and works in the directory itself (it changes into it at start and never leaves).
 * Anything else that is alive is foreign unless it is exactly the server this gateway starts, left by a gateway
 * that is gone.
 */
function identifyLockHolder(pid: number | null, context: LockRecoveryContext): LockHolder {
  if (pid === null) return stale(pid, "it names no process: a start crashed while writing it");
  const holder = inspectProcess(pid);
  if (holder === null) {
    return processExists(pid) ? foreign(pid, "there is no /proc entry to tell what it is") : stale(pid, "no such process");
  }
  if (holder.exited) return stale(pid, "it has exited, or is exiting; it holds nothing any more");
  const owner = statSync(context.dataDir).uid;
  if (holder.effectiveUid !== owner) {
    return stale(pid, `it runs as uid ${holder.effectiveUid}, not as the data directory's owner (uid ${owner})`);
  }
  if (holder.workingDirectory === null) {
    return foreign(pid, "its working directory cannot be read to tell which data directory it serves");
  }
  if (!samePath(holder.workingDirectory, context.dataDir)) {
    return stale(pid, `it works in ${holder.workingDirectory}, not in this data directory`);
  }
  if (!isPostmasterAtomicStarts(holder, context)) {
    return foreign(pid, `it runs ${describe(holder)}, not ${context.postgresBinary} -D ${context.dataDir}`);
  }
  const supervisorPid = Number(startingEnvironmentVariable(holder, SUPERVISOR_PID_VARIABLE));
  if (!(supervisorPid > 0)) {
    return foreign(pid, `it was not started by Atomic (no ${SUPERVISOR_PID_VARIABLE} in its environment)`);
  }
  if (holder.parentPid === supervisorPid) {
    return foreign(pid, `the Atomic process that started it (pid ${supervisorPid}) is still running`);
  }
  return { kind: "orphan", pid, supervisorPid };
}

function stale(pid: number | null, reason: string): LockHolder {
  return { kind: "stale", pid, reason };
}

function foreign(pid: number, reason: string): LockHolder {
  return { kind: "foreign", pid, reason };
}

/** "-D <dataDir>" also tells the postmaster from its children, which rewrite their command line ("postgres: ..."). */
function isPostmasterAtomicStarts(holder: ProcessSnapshot, context: LockRecoveryContext): boolean {
  const [, flag, dataDir] = holder.commandLine;
  return (
    holder.executable !== null &&
    samePath(holder.executable, context.postgresBinary) &&
    flag === "-D" &&
    dataDir !== undefined &&
    samePath(dataDir, context.dataDir)
  );
}

function describe(holder: ProcessSnapshot): string {
  return `${holder.executable ?? "an unreadable executable"} (${holder.commandLine.join(" ") || "no command line"})`;
}

/**
 * Adopting the orphan (connecting to its socket) would be quicker, but it is not this gateway's child: no exit
 * event tells when it dies, and it cannot be reaped, so its supervision would be polling a pid that may be reused.
 * It may also be half-dead (a child killed, a start stuck in recovery) or run with the settings of an older start.
 * A fast shutdown loses nothing (it flushes and checkpoints) and takes a second or so, so the orphan is stopped and
 * a fresh server started under this gateway's own supervision.
 */
async function stopOrphan(
  orphan: { pid: number; supervisorPid: number },
  lockPath: string,
  context: LockRecoveryContext,
): Promise<void> {
  const started = performance.now();
  for (const { signal, mode, waitMs } of shutdownEscalation(context.stopTimeoutMs)) {
    signalIfRunning(orphan.pid, signal);
    if (await exitsWithin(orphan.pid, waitMs)) {
      const ms = Math.round(performance.now() - started);
      context.logger?.info(
        { pid: orphan.pid, supervisorPid: orphan.supervisorPid, signal, mode, ms },
        "stopped an orphaned embedded PostgreSQL, left running by a gateway that is gone; starting a fresh one",
      );
      return;
    }
    context.logger?.warn(
      { pid: orphan.pid, signal, waitMs },
      "orphaned embedded PostgreSQL did not stop in time; escalating",
    );
  }
  throw new Error(`the orphaned embedded PostgreSQL pid ${orphan.pid} (named in ${lockPath}) survived SIGKILL`);
}

/** PostgreSQL's shutdown modes, gentlest first ("Shutting Down the Server" in its manual). */
function shutdownEscalation(fastShutdownMs: number): Array<{ signal: NodeJS.Signals; mode: string; waitMs: number }> {
  return [
    // Rolls back open transactions, checkpoints, removes its lock files.
    { signal: "SIGINT", mode: "fast shutdown", waitMs: fastShutdownMs },
    // Quits without a checkpoint (the next start replays the WAL); kills children still there after 5 s.
    { signal: "SIGQUIT", mode: "immediate shutdown", waitMs: Math.min(fastShutdownMs, 10_000) },
    // Its children notice their postmaster's death and exit; the next start waits for them (see the retries).
    { signal: "SIGKILL", mode: "kill", waitMs: 5_000 },
  ];
}

function signalIfRunning(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

/** Whether init collects a zombie soon is no business of this gateway's. */
async function exitsWithin(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (!processExists(pid) || inspectProcess(pid)?.exited === true) return true;
    if (performance.now() > deadline) return false;
    await delay(50);
  }
}

/**
 * PostgreSQL removes a lock whose pid is gone by itself, but refuses one whose pid is a zombie (or on its way to
 * becoming one) or was reused by an unrelated process. Removing it cannot let two servers share the data directory: PostgreSQL's second interlock,
 * a shared-memory segment keyed by the directory's inode, still refuses a start while any old server process lives.
 */
function removeStaleLock(
  path: string,
  content: string,
  holder: { pid: number | null; reason: string },
  logger: EmbeddedPostgresLogger | undefined,
): void {
  // Another start may have replaced it since it was read; that lock is the next attempt's to judge.
  if (readOrNull(path) !== content) return;
  rmSync(path, { force: true });
  logger?.info(
    { path, pid: holder.pid, reason: holder.reason },
    "removed a stale lock file of the embedded PostgreSQL",
  );
}

function samePath(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}
