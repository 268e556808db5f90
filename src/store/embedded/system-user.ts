import { readFileSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";

export interface SystemUser {
  name: string;
  uid: number;
  gid: number;
}

/** Reads /etc/passwd directly: the only lookup needed is one local account, not worth a native dependency. */
export function lookupSystemUser(name: string, passwdFile = "/etc/passwd"): SystemUser | null {
  for (const line of readFileSync(passwdFile, "utf8").split("\n")) {
    const [user, , uid, gid] = line.split(":");
    if (user === name && uid !== undefined && gid !== undefined) {
      return { name, uid: Number(uid), gid: Number(gid) };
    }
  }
  return null;
}

/**
 * The first directory above `dir` that `user` may not search, or null when it can reach `dir`. Only the primary
 * group counts: Node (libuv) drops supplementary groups when it spawns a child with another uid/gid.
 */
export function findUntraversableAncestor(dir: string, user: SystemUser): string | null {
  const ancestors: string[] = [];
  for (let current = dirname(resolve(dir)); ; current = dirname(current)) {
    ancestors.unshift(current);
    if (dirname(current) === current) break;
  }
  for (const ancestor of ancestors) {
    if (!canSearch(ancestor, user)) return ancestor;
  }
  return null;
}

function canSearch(dir: string, user: SystemUser): boolean {
  const { uid, gid, mode } = statSync(dir);
  if (uid === user.uid) return (mode & 0o100) !== 0;
  if (gid === user.gid) return (mode & 0o010) !== 0;
  return (mode & 0o001) !== 0;
}
