import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, chownSync, closeSync, constants, existsSync, fchownSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import pg from "pg";
import { locatePostgresBinaries } from "./binaries.js";
import { recoverDataDirectoryLocks, SUPERVISOR_PID_VARIABLE } from "./lock-recovery.js";
import { readLogTail } from "./log-tail.js";
import { releaseSocketDirectory, socketDirectoryFor, type SocketDirectory } from "./socket-directory.js";
import { findUntraversableAncestor, lookupSystemUser, type SystemUser } from "./system-user.js";

/** The pino methods used here, so any pino logger (or a stub) fits. */
export interface EmbeddedPostgresLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface EmbeddedPostgresOptions {
  /** The cluster lives here; created (and initialised) on first start. */
  dataDir: string;
  /** Folder holding initdb and postgres; else ATOMIC_PG_BIN_DIR, else the newest /usr/lib/postgresql/<n>/bin. */
  binDir?: string;
  logger?: EmbeddedPostgresLogger;
  /** Includes crash recovery after an unclean stop, which can take a while on a large cluster. */
  startTimeoutMs?: number;
  /**
   * After this, a server that ignores the fast-shutdown request is killed; an orphan left by a crashed gateway is
   * pushed harder (see lock-recovery).
   */
  stopTimeoutMs?: number;
  /**
   * Deliberately not configurable: the server listens on a unix socket only, which is what makes initdb's trust
   * authentication acceptable.
   */
  port?: never;
}

export interface EmbeddedPostgres {
  connectionString: string;
  stop(): Promise<void>;
}

/** initdb's superuser and the database the gateway uses; also what a command that joins a running server names. */
export const SUPERUSER = "atomic";
export const DATABASE = "atomic";
/** Only names the socket file (.s.PGSQL.5432): no TCP port is opened. */
const SOCKET_PORT = 5432;
const SERVER_ACCOUNT = "postgres";
const LOG_FILE = "postgres.log";

type ExitOutcome = { code: number | null; signal: NodeJS.Signals | null } | { error: Error };

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const logger = options.logger;
  const binaries = locatePostgresBinaries(options.binDir === undefined ? {} : { binDir: options.binDir });
  const dataDir = resolve(options.dataDir);
  const runAs = process.getuid?.() === 0 ? requireServerAccount() : null;
  prepareDataDirectory(dataDir, runAs);

  if (!existsSync(join(dataDir, "PG_VERSION"))) {
    logger?.info({ dataDir, binDir: binaries.binDir }, "initialising embedded PostgreSQL cluster");
    await initialiseCluster(binaries.initdb, dataDir, runAs, logger);
  }
  return startRetryingWhileLocked({
    postgres: binaries.postgres,
    dataDir,
    runAs,
    logger,
    startTimeoutMs: options.startTimeoutMs ?? 60_000,
    stopTimeoutMs: options.stopTimeoutMs ?? 30_000,
  });
}

interface ServerLaunch {
  postgres: string;
  dataDir: string;
  runAs: SystemUser | null;
  logger: EmbeddedPostgresLogger | undefined;
  startTimeoutMs: number;
  stopTimeoutMs: number;
}

/** Long enough for the children of a server killed a moment ago to notice its death and exit. */
const LOCK_RETRY_MS = 10_000;
const LOCK_RETRY_MAX_DELAY_MS = 1_000;
/** PostgreSQL's own words when a previous server, or a part of it, still holds the data directory or the socket. */
const LOCK_CONTENTION = /FATAL: +(lock file ".*" already exists|pre-existing shared memory block .* is still in use)/;

/**
 * After a crash the data directory may still be held. Before each attempt the lock recovery clears the lock files:
 * it stops an orphaned server and removes the locks of dead (or not yet reaped) ones. What it cannot clear is the
 * shared memory still attached by the children of a server killed a moment ago, which exit once they notice their
 * postmaster's death; and a holder can die between that look and the start. PostgreSQL gives up at once on either,
 * so the start is retried with a short backoff, for a bounded time counted from the first refusal.
 */
async function startRetryingWhileLocked(launch: ServerLaunch): Promise<EmbeddedPostgres> {
  let giveUpAt: number | null = null;
  for (let attempt = 1; ; attempt += 1) {
    await recoverDataDirectoryLocks({
      dataDir: launch.dataDir,
      postgresBinary: launch.postgres,
      lockFileNames: ["postmaster.pid", `.s.PGSQL.${SOCKET_PORT}.lock`],
      stopTimeoutMs: launch.stopTimeoutMs,
      logger: launch.logger,
    });
    try {
      return await launchServer(launch);
    } catch (error) {
      const contention = error instanceof ServerExitedDuringStart ? LOCK_CONTENTION.exec(error.serverLog) : null;
      if (contention === null) throw error;
      giveUpAt ??= performance.now() + LOCK_RETRY_MS;
      const delayMs = Math.min(100 * 2 ** (attempt - 1), LOCK_RETRY_MAX_DELAY_MS);
      if (performance.now() + delayMs > giveUpAt) throw error;
      launch.logger?.warn(
        { dataDir: launch.dataDir, attempt, delayMs, reason: contention[1] },
        "embedded PostgreSQL found its data directory still locked; retrying",
      );
      await delay(delayMs);
    }
  }
}

async function launchServer(launch: ServerLaunch): Promise<EmbeddedPostgres> {
  const { dataDir, runAs, logger } = launch;
  const socketDir = await socketDirectoryFor(dataDir, SOCKET_PORT, runAs);
  const logPath = join(dataDir, LOG_FILE);
  const logFd = openSync(logPath, "a", 0o600);
  const logStart = fstatSync(logFd).size;
  if (runAs !== null) fchownSync(logFd, runAs.uid, runAs.gid);
  const child = spawn(launch.postgres, serverArguments(dataDir, socketDir.path), {
    ...spawnIdentity(runAs),
    cwd: dataDir,
    env: serverEnvironment(),
    // Server logs go to a file in the data directory so that the gateway's stdout stays its own.
    stdio: ["ignore", logFd, logFd],
    // A process group of its own: Ctrl-C at the terminal signals the gateway's group, and PostgreSQL would take
    // it as a fast shutdown while the gateway is still draining into it. The gateway stops it itself, last.
    detached: true,
  });
  closeSync(logFd);
  const exited = exitOf(child);
  stopWithParent(child, exited);

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= shutDown(child, exited, launch.stopTimeoutMs, logger).finally(() => releaseSocketDirectory(socketDir));
    return stopping;
  };
  void exited.then((outcome) => {
    if (stopping === null) logger?.warn({ dataDir, outcome, logPath }, "embedded PostgreSQL exited unexpectedly");
  });

  const connectionString = socketConnectionString(socketDir, DATABASE);
  try {
    await waitUntilAccepting({
      adminUrl: socketConnectionString(socketDir, "postgres"),
      exited,
      ownsDataDir: () => postmasterPid(dataDir) === child.pid,
      timeoutMs: launch.startTimeoutMs,
      logTail: () => readLogTail(logPath, logStart),
    });
    await ensureDatabase(socketConnectionString(socketDir, "postgres"), DATABASE);
  } catch (error) {
    await stop();
    throw error;
  }
  logger?.info({ dataDir, socketDir: socketDir.path, pid: child.pid }, "embedded PostgreSQL ready");
  return { connectionString, stop };
}

function requireServerAccount(): SystemUser {
  const account = lookupSystemUser(SERVER_ACCOUNT);
  if (account === null) {
    throw new Error(
      `PostgreSQL refuses to run as root and there is no '${SERVER_ACCOUNT}' system user to run it as: ` +
        "install the postgresql Debian package (it creates the user), run the gateway as an unprivileged user, " +
        "or set DATABASE_URL",
    );
  }
  return account;
}

/**
 * Running as root, the server runs as the postgres account, which must own the data directory and be able to reach
 * it. An unreachable directory is an error rather than a reason to pick another place: the operator chose where
 * the durable record lives, and moving it silently (say, to /tmp) would lose it at the next reboot.
 */
function prepareDataDirectory(dataDir: string, runAs: SystemUser | null): void {
  mkdirSync(dirname(dataDir), { recursive: true });
  // PostgreSQL insists on 0700 (or 0750) for its data directory.
  if (!existsSync(dataDir)) mkdirSync(dataDir, { mode: 0o700 });
  if (runAs === null) return;
  const blocked = findUntraversableAncestor(dataDir, runAs);
  if (blocked !== null) {
    throw new Error(
      `the ${runAs.name} user (uid ${runAs.uid}), which runs the embedded PostgreSQL because PostgreSQL refuses to ` +
        `run as root, cannot reach the data directory ${dataDir}: it may not enter ${blocked}. Choose a data ` +
        `directory it can reach (for example under /var/lib/atomic), or set DATABASE_URL`,
    );
  }
  // Only the directory itself: a cluster created here earlier already belongs to the account, and a recursive
  // chown of a mistyped path could do real damage.
  if (statSync(dataDir).uid !== runAs.uid) chownSync(dataDir, runAs.uid, runAs.gid);
}

/**
 * A first start makes the cluster beside the data directory and puts it in the empty directory's place with one
 * rename once initdb has finished: initdb writes PG_VERSION first and the rest after it, so a gateway killed during
 * its first start (a Ctrl-C in the few seconds initdb takes) left a half-made cluster that every later start took
 * for a real one and failed on. Now a kill leaves the data directory empty, as it was, and the next start removes
 * what the interrupted attempt left beside it. A data directory that holds something, is a mount point, or whose
 * parent is not ours to write is initialised in place, as before (initdb then says what it finds there).
 */
async function initialiseCluster(initdb: string, dataDir: string, runAs: SystemUser | null, logger: EmbeddedPostgresLogger | undefined): Promise<void> {
  removeInterruptedInitialisations(dataDir, logger);
  if (!canStageBeside(dataDir)) return runInitdb(initdb, dataDir, runAs, dataDir);
  const staging = `${stagingPrefix(dataDir)}${process.pid}`;
  // Named for this process: one of that name is an earlier process's with the same pid, long gone.
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { mode: 0o700 });
  try {
    if (runAs !== null) chownSync(staging, runAs.uid, runAs.gid);
    await runInitdb(initdb, staging, runAs, dataDir);
    // rename(2) replaces an empty directory in one step.
    renameSync(staging, dataDir);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
}

/** `.data.initdb-<pid>` beside `data`: hidden, named for the data directory and for the process making it. */
function stagingPrefix(dataDir: string): string {
  return join(dirname(dataDir), `.${basename(dataDir)}.initdb-`);
}

function canStageBeside(dataDir: string): boolean {
  if (readdirSync(dataDir).length > 0) return false;
  if (statSync(dataDir).dev !== statSync(dirname(dataDir)).dev) return false;
  try {
    accessSync(dirname(dataDir), constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Removes the staging folders of earlier first starts whose process is gone (one still alive is left alone). */
function removeInterruptedInitialisations(dataDir: string, logger: EmbeddedPostgresLogger | undefined): void {
  const prefix = basename(stagingPrefix(dataDir));
  let names: string[];
  try {
    names = readdirSync(dirname(dataDir));
  } catch {
    // A parent we may pass through but not list: an earlier attempt's folder there, if any, stays where it is.
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    if (!Number.isInteger(pid) || pid <= 0 || processExists(pid)) continue;
    const path = join(dirname(dataDir), name);
    rmSync(path, { recursive: true, force: true });
    logger?.info({ path, pid }, "removed what an interrupted first start of the embedded PostgreSQL left");
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** initdb into `pgdata`, for the cluster that is to be `dataDir` (what an error names). */
async function runInitdb(initdb: string, pgdata: string, runAs: SystemUser | null, dataDir: string): Promise<void> {
  const args = [
    `--pgdata=${pgdata}`,
    // Trust is acceptable only because the server never listens on TCP and its socket is private (0700).
    "--auth=trust",
    `--username=${SUPERUSER}`,
    "--encoding=UTF8",
    "--locale=C",
    // The product is a verifiable record: let PostgreSQL detect silent corruption of its pages.
    "--data-checksums",
  ];
  const child = spawn(initdb, args, {
    ...spawnIdentity(runAs),
    cwd: pgdata,
    env: childEnvironment(),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: Buffer[] = [];
  child.stdout?.on("data", (chunk: Buffer) => output.push(chunk));
  child.stderr?.on("data", (chunk: Buffer) => output.push(chunk));
  const outcome = await exitOf(child);
  if ("error" in outcome || outcome.code !== 0) {
    const reason = "error" in outcome ? outcome.error.message : `exit code ${outcome.code ?? outcome.signal}`;
    const tail = Buffer.concat(output).toString("utf8").trim().split("\n").slice(-20).join("\n");
    throw new Error(`initdb failed for ${dataDir} (${reason}):\n${tail}`);
  }
}

function serverArguments(dataDir: string, socketDir: string): string[] {
  const settings = {
    listen_addresses: "",
    port: String(SOCKET_PORT),
    // Quoted because the setting is a comma-separated list and paths may contain commas or spaces.
    unix_socket_directories: `"${socketDir}"`,
    unix_socket_permissions: "0700",
    logging_collector: "off",
    log_destination: "stderr",
    shared_buffers: "64MB",
    max_connections: "100",
  };
  return ["-D", dataDir, ...Object.entries(settings).flatMap(([name, value]) => ["-c", `${name}=${value}`])];
}

function spawnIdentity(runAs: SystemUser | null): { uid?: number; gid?: number } {
  return runAs === null ? {} : { uid: runAs.uid, gid: runAs.gid };
}

/** PG* variables meant for the gateway's own connections (PGPORT, PGDATA, ...) would change how the server starts. */
function childEnvironment(): NodeJS.ProcessEnv {
  const inherited = Object.entries(process.env).filter(([name]) => !name.startsWith("PG"));
  return { ...Object.fromEntries(inherited), LC_ALL: "C" };
}

/** Names this gateway in the server's environment, where a later gateway looks for it (see lock-recovery). */
function serverEnvironment(): NodeJS.ProcessEnv {
  return { ...childEnvironment(), [SUPERVISOR_PID_VARIABLE]: String(process.pid) };
}

function socketConnectionString(socketDir: SocketDirectory, database: string): string {
  const query = new URLSearchParams({ host: socketDir.path, port: String(SOCKET_PORT) });
  return `postgresql://${SUPERUSER}@/${database}?${query.toString()}`;
}

/** "close" rather than "exit": by then every byte the child wrote to a pipe has been read. */
function exitOf(child: ChildProcess): Promise<ExitOutcome> {
  return new Promise((resolveExit) => {
    child.once("close", (code: number | null, signal: NodeJS.Signals | null) => resolveExit({ code, signal }));
    child.once("error", (error) => resolveExit({ error }));
  });
}

/** Errors that only mean "not listening yet". */
const STARTING_UP = new Set(["ENOENT", "ECONNREFUSED", "57P03"]);

interface ReadinessCheck {
  adminUrl: string;
  exited: Promise<ExitOutcome>;
  /**
   * Another server already running on this data directory answers on the same socket while ours is still failing
   * on the lock file; only a server whose pid is in postmaster.pid is ours.
   */
  ownsDataDir: () => boolean;
  timeoutMs: number;
  logTail: () => string;
}

async function waitUntilAccepting(check: ReadinessCheck): Promise<void> {
  const pollAgain = Symbol("poll again");
  const deadline = performance.now() + check.timeoutMs;
  for (;;) {
    if (check.ownsDataDir() && (await acceptsConnections(check.adminUrl))) return;
    const early = await Promise.race([check.exited, delay(100, pollAgain)]);
    if (early !== pollAgain) throw new ServerExitedDuringStart(early, check.logTail());
    if (performance.now() > deadline) {
      throw new Error(`embedded PostgreSQL did not accept connections within ${check.timeoutMs} ms:\n${check.logTail()}`);
    }
  }
}

/** Carries the server's log apart, for the caller to tell a transient lock conflict from a real failure. */
class ServerExitedDuringStart extends Error {
  constructor(
    outcome: ExitOutcome,
    readonly serverLog: string,
  ) {
    super(`embedded PostgreSQL exited during start (${JSON.stringify(outcome)}):\n${serverLog}`);
  }
}

async function acceptsConnections(adminUrl: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: adminUrl });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch (error) {
    if (STARTING_UP.has((error as { code?: string }).code ?? "")) return false;
    throw error;
  }
}

/** The first line of postmaster.pid is the pid of the server holding the data directory. */
function postmasterPid(dataDir: string): number | null {
  try {
    return Number(readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
  } catch {
    return null;
  }
}

async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const existing = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
    if (existing.rowCount === 0) await client.query(`CREATE DATABASE ${database}`);
  } finally {
    await client.end();
  }
}

/** SIGINT is PostgreSQL's fast shutdown: roll back open transactions, checkpoint, exit. */
async function shutDown(
  child: ChildProcess,
  exited: Promise<ExitOutcome>,
  timeoutMs: number,
  logger: EmbeddedPostgresLogger | undefined,
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGINT");
  const timedOut = Symbol("timed out");
  const outcome = await Promise.race([exited, delay(timeoutMs, timedOut, { ref: false })]);
  if (outcome === timedOut) {
    logger?.warn({ pid: child.pid, timeoutMs }, "embedded PostgreSQL ignored fast shutdown; killing it");
    child.kill("SIGKILL");
    await exited;
  }
}

const serversToStopOnExit = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * A gateway that exits without calling stop() must not leave an orphan server holding the data directory. Only
 * synchronous work is possible in an exit handler, so this asks for a fast shutdown and does not wait for it.
 */
function stopWithParent(child: ChildProcess, exited: Promise<ExitOutcome>): void {
  serversToStopOnExit.add(child);
  void exited.then(() => serversToStopOnExit.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const server of serversToStopOnExit) server.kill("SIGINT");
  });
}
