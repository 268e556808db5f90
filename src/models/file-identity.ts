import { fstatSync, statSync, type BigIntStats } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * What tells, without reading a file, whether its bytes may have changed: which file it is (device, inode), its size,
 * and its modification and change times to the nanosecond. Every write(2) into the file, the first write through a
 * shared mapping to each page (and again after writeback), a truncation, a rename over it, an unlink or a chmod
 * stamps ctime with the kernel's clock, and nothing sets ctime back short of setting the clock. So an identity read
 * twice, unchanged, means no write landed in between (see settledIdentity for the clock's granularity).
 */
export interface FileIdentity {
  dev: bigint;
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

export function identityOf(stats: BigIntStats): FileIdentity {
  return { dev: stats.dev, ino: stats.ino, size: stats.size, mtimeNs: stats.mtimeNs, ctimeNs: stats.ctimeNs };
}

/** The identity of the file open at `fd`: the one a model host hashed and llama.cpp reads, whatever its name now. */
export const descriptorIdentity = (fd: number): FileIdentity => identityOf(fstatSync(fd, { bigint: true }));

/** The identity of what `path` names now, or null when it names nothing. */
export function pathIdentity(path: string): FileIdentity | null {
  const stats = statSync(path, { bigint: true, throwIfNoEntry: false });
  return stats === undefined ? null : identityOf(stats);
}

export const sameFile = (a: FileIdentity, b: FileIdentity): boolean => a.dev === b.dev && a.ino === b.ino;

export const sameIdentity = (a: FileIdentity, b: FileIdentity): boolean =>
  sameFile(a, b) && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;

/** What differs between two identities of one file, in words for a log line and a refusal's reason. */
export function describeChange(before: FileIdentity, after: FileIdentity): string {
  const changes: string[] = [];
  if (!sameFile(before, after)) changes.push("another file");
  if (before.size !== after.size) changes.push(`size ${before.size} → ${after.size} bytes`);
  if (before.mtimeNs !== after.mtimeNs) changes.push(`modified at ${isoTime(after.mtimeNs)}`);
  if (before.ctimeNs !== after.ctimeNs) changes.push(`inode changed at ${isoTime(after.ctimeNs)}`);
  return changes.length === 0 ? "unchanged" : changes.join(", ");
}

function isoTime(ns: bigint): string {
  return new Date(Number(ns / 1_000_000n)).toISOString();
}

/**
 * How old a file's ctime must be before its identity is trusted. The kernel stamps ctime from a coarse clock (one
 * tick: 1 to 10 ms), so a write in the same tick as the identity was read would leave it unchanged. Once ctime is
 * this much older than now, the coarse clock has moved past it, and any later write stamps a later ctime.
 */
export const CTIME_SETTLE_MS = 50;

/**
 * The identity of the file open at `fd` once its ctime has settled (CTIME_SETTLE_MS), waiting a few times at most:
 * a file still being written is then hashed as it is, and refused if its bytes are not the pinned ones.
 */
export async function settledIdentity(fd: number, attempts = 4): Promise<FileIdentity> {
  let identity = descriptorIdentity(fd);
  for (let attempt = 0; attempt < attempts; attempt++) {
    const ageMs = Date.now() - Number(identity.ctimeNs / 1_000_000n);
    if (ageMs >= CTIME_SETTLE_MS) return identity;
    // A ctime in the future (the clock was set back) waits one settle period per attempt, no more.
    await sleep(Math.min(CTIME_SETTLE_MS, Math.max(1, CTIME_SETTLE_MS - ageMs)));
    identity = descriptorIdentity(fd);
  }
  return identity;
}
