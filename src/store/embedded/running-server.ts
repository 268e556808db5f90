import { readFileSync, realpathSync } from "node:fs";
import { join, resolve } from "node:path";
import pg from "pg";
import { DATABASE, SUPERUSER } from "./embedded-postgres.js";
import { inspectProcess, processExists } from "./process-inspection.js";
import { OperatorError } from "../../util/operator-error.js";

/** Why a running embedded PostgreSQL cannot be joined: one line, for an operator at the console. */
export class EmbeddedPostgresUnavailableError extends OperatorError {
  override readonly name = "EmbeddedPostgresUnavailableError";
}

/** Errors of a connection attempt that mean the server is not, or no longer, taking connections. */
const NOT_ACCEPTING = new Set(["ENOENT", "ECONNREFUSED", "57P03"]);

/**
 * The connection string of the embedded PostgreSQL running on `dataDir` (the one a gateway started), or null when
 * none runs there. A second server cannot start on a data directory a server holds, and the gateway's cannot be
 * stopped under it, so a one-shot command joins it instead: over the unix socket postmaster.pid names, as the
 * superuser initdb created. That socket is private to the account the server runs as (0700): root and that
 * account get in, anyone else is told so. Throws EmbeddedPostgresUnavailableError when a server runs but cannot
 * be joined (starting, stopping, or out of reach).
 */
export async function runningServerConnection(dataDir: string): Promise<string | null> {
  const lock = readPostmasterPid(resolve(dataDir));
  // No server, or the lock of one that is gone: starting a server of its own clears such a lock.
  if (lock === null || !processExists(lock.pid) || inspectProcess(lock.pid)?.exited === true) return null;
  const server = `the embedded PostgreSQL on ${dataDir} (pid ${lock.pid})`;
  if (lock.status !== "ready" || lock.socketDir === "") {
    throw new EmbeddedPostgresUnavailableError(`${server} is ${lock.status || "starting"}; try again once it is ready`);
  }
  const query = new URLSearchParams({ host: lock.socketDir, port: lock.port });
  const url = `postgresql://${SUPERUSER}@/${DATABASE}?${query.toString()}`;
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    const served = (await client.query<{ dir: string }>("SELECT current_setting('data_directory') AS dir")).rows[0]!.dir;
    // The socket directory may be a temporary folder shared by nothing else, but only the server's own word counts.
    if (!samePath(served, dataDir)) throw new EmbeddedPostgresUnavailableError(`${server} answers on ${lock.socketDir} for another data directory, ${served}`);
  } catch (error) {
    const code = (error as { code?: string }).code ?? "";
    if (code === "EACCES") {
      throw new EmbeddedPostgresUnavailableError(
        `${server} is running, but its socket in ${lock.socketDir} is private to the account it runs as: run this as that account or root, or use the gateway's admin API`,
      );
    }
    if (NOT_ACCEPTING.has(code)) throw new EmbeddedPostgresUnavailableError(`${server} is not accepting connections (${code}); try again once it is ready`);
    throw error;
  } finally {
    await client.end().catch(() => undefined);
  }
  return url;
}

interface PostmasterPid {
  pid: number;
  port: string;
  socketDir: string;
  /** "starting", "ready", "stopping" or "standby"; empty while PostgreSQL has yet to write it. */
  status: string;
}

/**
 * postmaster.pid, as PostgreSQL writes it (src/include/utils/pidfile.h): pid, data directory, start time, port,
 * first socket directory, first listen address, shared memory key, status. Null when absent or not yet written.
 */
function readPostmasterPid(dataDir: string): PostmasterPid | null {
  let lines: string[];
  try {
    lines = readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n");
  } catch {
    return null;
  }
  const pid = Number.parseInt(lines[0] ?? "", 10);
  if (!(pid > 0)) return null;
  return { pid, port: (lines[3] ?? "").trim(), socketDir: (lines[4] ?? "").trim(), status: (lines[7] ?? "").trim() };
}

function samePath(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}
