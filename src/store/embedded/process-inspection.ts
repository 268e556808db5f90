import { readFileSync, readlinkSync } from "node:fs";

/** What Linux's /proc says about a process, as far as this process may read it. */
export interface ProcessSnapshot {
  pid: number;
  /**
   * Exiting or exited: a zombie whose parent has yet to collect its status holds nothing any more, and a process on
   * its way there is releasing what it held (its working directory, among the first, already reads as nothing).
   */
  exited: boolean;
  parentPid: number;
  effectiveUid: number;
  /** Null where /proc hides it: another user's process, when this one is not root. */
  workingDirectory: string | null;
  executable: string | null;
  commandLine: string[];
  /** The environment it was started with ("NAME=value"); empty where /proc hides it, or once it starts exiting. */
  startingEnvironment: string[];
}

/**
 * Whether a process with this pid exists. EPERM means it does but belongs to another user; a zombie counts as
 * existing, as it does for kill(2), and for PostgreSQL's own lock-file check.
 */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Linux's per-process flag set when it starts to exit, before it releases anything (include/linux/sched.h). */
const PF_EXITING = 0x4;

/** Null when /proc has no entry for the pid (it is gone, or this is not Linux). */
export function inspectProcess(pid: number): ProcessSnapshot | null {
  // Read before the state: a process that starts exiting meanwhile loses these first, and its state, read last,
  // then says it is exiting, rather than a live process seeming to hide them.
  const workingDirectory = linkOrNull(`/proc/${pid}/cwd`);
  const executable = withoutDeletedMark(linkOrNull(`/proc/${pid}/exe`));
  const commandLine = nulSeparated(readOrNull(`/proc/${pid}/cmdline`));
  const startingEnvironment = nulSeparated(readOrNull(`/proc/${pid}/environ`));
  const status = readOrNull(`/proc/${pid}/status`);
  const stat = readOrNull(`/proc/${pid}/stat`);
  if (stat === null || status === null) return null;
  // The command name (field 2) is in parentheses and may itself hold spaces or parentheses.
  const [state, parentPid, , , , , flags] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return {
    pid,
    exited: state === "Z" || state === "X" || (Number(flags) & PF_EXITING) !== 0,
    parentPid: Number(parentPid),
    effectiveUid: Number(/^Uid:\s+\d+\s+(\d+)/m.exec(status)?.[1]),
    workingDirectory,
    executable,
    commandLine,
    startingEnvironment,
  };
}

/**
 * One variable of the environment a process was started with (readable for the same user, or root). Taken from the
 * snapshot, not read again: a process killed since would read as having none, and seem started by someone else.
 */
export function startingEnvironmentVariable(snapshot: ProcessSnapshot, name: string): string | null {
  const prefix = `${name}=`;
  const entry = snapshot.startingEnvironment.find((line) => line.startsWith(prefix));
  return entry === undefined ? null : entry.slice(prefix.length);
}

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

function linkOrNull(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch {
    return null;
  }
}

/** A binary replaced on disk while running (a package upgrade) reads as "<path> (deleted)". */
function withoutDeletedMark(path: string | null): string | null {
  return path?.replace(/ \(deleted\)$/, "") ?? null;
}

function nulSeparated(text: string | null): string[] {
  return text === null ? [] : text.split("\0").filter((part) => part !== "");
}
