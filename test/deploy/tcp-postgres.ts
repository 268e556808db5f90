import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chownSync, closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import pg from "pg";
import { freeLoopbackPort } from "../../src/orchestration/dev-server.js";
import { locatePostgresBinaries } from "../../src/store/embedded/binaries.js";
import { lookupSystemUser, type SystemUser } from "../../src/store/embedded/system-user.js";

export interface TcpPostgres {
  /** postgresql://user:password@127.0.0.1:port/postgres */
  url: string;
  host: string;
  port: number;
  user: string;
  password: string;
  /** The same server, another database. */
  urlFor(database: string): string;
  stop(): Promise<void>;
}

/**
 * A throwaway PostgreSQL cluster on 127.0.0.1 with password (SCRAM) authentication and no unix socket: what a
 * site's own PostgreSQL looks like to Temporal, unlike the embedded one (socket only, trust). Built from the same
 * Debian binaries and, under root, run as the same `postgres` account as src/store/embedded does.
 */
export async function startTcpPostgres(): Promise<TcpPostgres> {
  const binaries = locatePostgresBinaries();
  const runAs: SystemUser | null = process.getuid?.() === 0 ? lookupSystemUser("postgres") : null;
  if (process.getuid?.() === 0 && runAs === null) throw new Error("running as root and there is no postgres user to run PostgreSQL as");
  const identity = runAs ? { uid: runAs.uid, gid: runAs.gid } : {};
  const root = mkdtempSync(join(tmpdir(), "atomic-deploy-pg-"));
  const dataDir = join(root, "data");
  const user = "temporal_site";
  const password = randomBytes(12).toString("base64url");
  const pwfile = join(root, "pwfile");
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (runAs) {
    chownSync(root, runAs.uid, runAs.gid);
    chownSync(pwfile, runAs.uid, runAs.gid);
  }
  const env = { ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("PG"))), LC_ALL: "C" };
  const init = spawnSync(binaries.initdb, [`--pgdata=${dataDir}`, "--auth=scram-sha-256", `--username=${user}`, `--pwfile=${pwfile}`, "--encoding=UTF8", "--locale=C"], {
    ...identity, cwd: root, env, encoding: "utf8",
  });
  rmSync(pwfile, { force: true });
  if (init.status !== 0) {
    rmSync(root, { recursive: true, force: true });
    throw new Error(`initdb failed: ${init.error?.message ?? ""}\n${init.stdout}\n${init.stderr}`);
  }
  const port = await freeLoopbackPort();
  const logFd = openSync(join(root, "postgres.log"), "a", 0o600);
  const child: ChildProcess = spawn(binaries.postgres, [
    "-D", dataDir, "-c", "listen_addresses=127.0.0.1", "-c", `port=${port}`, "-c", "unix_socket_directories=",
    "-c", "shared_buffers=64MB", "-c", "max_connections=100",
  ], { ...identity, cwd: root, env, stdio: ["ignore", logFd, logFd], detached: true });
  closeSync(logFd);
  const exited = new Promise<void>((resolveExit) => child.once("exit", () => resolveExit()));
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const urlFor = (database: string) => `postgresql://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
  const stop = async () => {
    process.removeListener("exit", killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGINT"); // fast shutdown
      await exited;
    }
    rmSync(root, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    const client = new pg.Client({ connectionString: urlFor("postgres") });
    try {
      await client.connect();
      await client.end();
      break;
    } catch (error) {
      await client.end().catch(() => undefined);
      if (child.exitCode !== null || Date.now() > deadline) {
        const log = spawnSync("tail", ["-n", "20", join(root, "postgres.log")], { encoding: "utf8" }).stdout;
        await stop();
        throw new Error(`throwaway PostgreSQL did not start on 127.0.0.1:${port}: ${(error as Error).message}\n${log}`);
      }
      await delay(100);
    }
  }
  return { url: urlFor("postgres"), host: "127.0.0.1", port, user, password, urlFor, stop };
}
