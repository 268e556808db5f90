import { chown, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SystemUser } from "./system-user.js";

/** sun_path holds 108 bytes including the terminating NUL; PostgreSQL refuses longer socket paths. */
const MAX_SOCKET_PATH_BYTES = 107;

export interface SocketDirectory {
  path: string;
  /** Created for this server only, and removed when it stops. */
  temporary: boolean;
}

/**
 * The data directory itself when the socket path fits (private, stable across restarts, nothing to clean up);
 * otherwise a fresh private directory under the system temp folder.
 */
export async function socketDirectoryFor(dataDir: string, port: number, owner: SystemUser | null): Promise<SocketDirectory> {
  const socketPath = join(dataDir, `.s.PGSQL.${port}`);
  if (Buffer.byteLength(socketPath) <= MAX_SOCKET_PATH_BYTES && !dataDir.includes('"')) {
    return { path: dataDir, temporary: false };
  }
  const path = await mkdtemp(join(tmpdir(), "atomic-pg-"));
  if (owner !== null) await chown(path, owner.uid, owner.gid);
  return { path, temporary: true };
}

export async function releaseSocketDirectory(directory: SocketDirectory): Promise<void> {
  if (directory.temporary) await rm(directory.path, { recursive: true, force: true });
}
