import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import type { Connection } from "@temporalio/client";
import type { Logger } from "../observability/logger.js";

/** The dev server binds here and nowhere else: its gRPC, HTTP and metrics ports are all loopback-only. */
export const DEV_SERVER_IP = "127.0.0.1";
export const DEV_SERVER_DB_FILE = "temporal.sqlite";

export interface DevServerOptions {
  /** The Temporal CLI (see locateTemporalBinary). */
  binary: string;
  /** Holds the SQLite file, so workflows and their histories survive restarts; created when missing. */
  dataDir: string;
  /** The frontend's gRPC port; 0 or absent: a free port, chosen once and kept across restarts. */
  port?: number;
  /** Namespaces created at start besides "default", which always is. */
  namespaces?: string[];
  /**
   * Serve the dev server's web UI on 127.0.0.1 at this port (it fetches no news, nor anything else, from outside).
   * 0 or absent: no UI (--headless).
   */
  uiPort?: number;
  logger: Logger;
  /** How long one start may take to accept API calls (SQLite migrations on a first start included). */
  startTimeoutMs?: number;
  /** First delay before a restart after the server died; doubles per consecutive failure up to maxRestartDelayMs. */
  restartDelayMs?: number;
  maxRestartDelayMs?: number;
  /** After SIGTERM, how long to wait before SIGKILL. */
  stopTimeoutMs?: number;
  /** Lifecycle notifications (tests wait on them; operators get the same in the log). */
  onEvent?: (event: DevServerEvent) => void;
}

export type DevServerEvent =
  | { kind: "ready"; pid: number; incarnation: number }
  | { kind: "exited"; pid: number; code: number | null; signal: NodeJS.Signals | null; incarnation: number }
  | { kind: "restart-failed"; error: string; incarnation: number };

export interface TemporalDevServer {
  /** host:port for Connection.connect / NativeConnection.connect. */
  readonly address: string;
  readonly port: number;
  /** "default" and the namespaces asked for. */
  readonly namespaces: string[];
  readonly dbFile: string;
  /** http://127.0.0.1:<uiPort>/ when the web UI is on; undefined when headless. */
  readonly uiUrl: string | undefined;
  /** The running server's process id; undefined between a death and the restart. */
  pid(): number | undefined;
  /** Times the server has been started again after dying. */
  restarts(): number;
  /** Resolves once the current (or, while restarting, the next) server process accepts API calls. */
  ready(): Promise<void>;
  stop(): Promise<void>;
}

export class DevServerStartError extends Error {
  override readonly name = "DevServerStartError";
}

/** A free TCP port on loopback, for a server that is told its port rather than reporting the one it took. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, DEV_SERVER_IP, () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolvePort(address.port) : reject(new Error("no port"))));
    });
  });
}

/** True once the frontend answers for every namespace: the server is up and they exist. */
async function probe(address: string, namespaces: readonly string[]): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    // Loaded here, not at the top: this module's address and port helpers are read by every gateway, with
    // orchestration on or off, and the SDK's client is a third of a second to import.
    const { Connection } = await import("@temporalio/client");
    connection = await Connection.connect({ address, connectTimeout: 1_000 });
    for (const namespace of namespaces) await connection.workflowService.describeNamespace({ namespace });
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

/**
 * Settings that take the waiting out of the dev server without making it any less durable (measured on 2 vCPUs: a
 * one-microtask task went from about 200 ms to about 100 ms through the server on these two alone).
 * - The history service reads the tasks it must hand to matching (each workflow and activity task a workflow
 *   schedules) at most `transferProcessorMaxPollRPS` times a second per shard: 20 by default, and the dev server
 *   has one shard, so every hop of a task waited for the next 50 ms slot. Reads happen only when a task was written.
 * - SQLite's default rollback journal writes, syncs and deletes a journal file on every commit; in WAL mode a commit
 *   is one append to the log, and `synchronous=full` still syncs it before the commit is acknowledged.
 * - A task queue has four partitions by default, each polled on its own: with one worker, a task written to a
 *   partition no poller is waiting on waits for the next poll to reach it. One partition (what a single-node dev
 *   server needs) took the added p50 of a one-microtask task from 79–90 ms to 63–64 ms (bench:tasks, shared 2 vCPUs).
 */
export const DEV_SERVER_TUNING: readonly string[] = [
  "--dynamic-config-value", "history.transferProcessorMaxPollRPS=1000",
  "--dynamic-config-value", "matching.numTaskqueueReadPartitions=1",
  "--dynamic-config-value", "matching.numTaskqueueWritePartitions=1",
  "--sqlite-pragma", "journal_mode=wal",
  "--sqlite-pragma", "synchronous=full",
];

/**
 * The web UI's flags: --headless when uiPort is 0 or absent; otherwise the UI on 127.0.0.1:<uiPort> only. The news
 * feed is switched off either way, so the UI makes no call outside this machine.
 */
export function devServerUiArgs(uiPort: number | undefined): string[] {
  const ui = uiPort ? ["--ui-ip", DEV_SERVER_IP, "--ui-port", String(uiPort)] : ["--headless"];
  return [...ui, "--ui-disable-news-fetch"];
}

const STABLE_AFTER_MS = 60_000;
const TAIL_LINES = 40;

/**
 * Starts `temporal server start-dev` (SQLite under dataDir, loopback only, no UI unless uiPort asks for one on
 * loopback, no calls home) and supervises it:
 * if it dies it is started again on the same port and file after a growing delay, so workers and clients that
 * retry their connections carry on where they were. Resolves when the first start accepts API calls; rejects with
 * the server's last output if that start fails.
 */
export async function startDevServer(options: DevServerOptions): Promise<TemporalDevServer> {
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const dbFile = join(dataDir, DEV_SERVER_DB_FILE);
  const port = options.port ? options.port : await freeLoopbackPort();
  const address = `${DEV_SERVER_IP}:${port}`;
  const uiPort = options.uiPort ? options.uiPort : undefined;
  if (uiPort !== undefined && (!Number.isInteger(uiPort) || uiPort < 1 || uiPort > 65535)) throw new DevServerStartError(`the dev server's UI port must be 1-65535, not ${uiPort}`);
  if (uiPort === port) throw new DevServerStartError(`the dev server's UI port ${uiPort} is its frontend's port too`);
  const uiUrl = uiPort === undefined ? undefined : `http://${DEV_SERVER_IP}:${uiPort}/`;
  const namespaces = ["default", ...(options.namespaces ?? []).filter((n) => n !== "default")];
  const log = options.logger.child({ component: "temporal-dev-server" });
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  const initialDelay = options.restartDelayMs ?? 500;
  const maxDelay = options.maxRestartDelayMs ?? 30_000;
  const args = [
    "server", "start-dev",
    "--ip", DEV_SERVER_IP,
    "--port", String(port),
    ...devServerUiArgs(uiPort),
    "--db-filename", dbFile,
    "--log-level", "warn",
    ...DEV_SERVER_TUNING,
    ...namespaces.slice(1).flatMap((n) => ["--namespace", n]),
  ];

  let child: ChildProcess | undefined;
  let stopping = false;
  let incarnation = 0;
  let restarts = 0;
  let restartDelay = initialDelay;
  let readyAt = 0;
  let tail: string[] = [];
  let current: Promise<void> = Promise.resolve();
  let restartTimer: NodeJS.Timeout | undefined;
  const killOnExit = () => child?.kill("SIGKILL");
  process.once("exit", killOnExit);

  const keepLines = (stream: NodeJS.ReadableStream | null, level: "debug" | "warn") => {
    let partial = "";
    stream?.setEncoding("utf8");
    stream?.on("data", (chunk: string) => {
      const lines = (partial + chunk).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines.filter((l) => l.trim().length > 0)) {
        tail.push(line);
        if (tail.length > TAIL_LINES) tail = tail.slice(-TAIL_LINES);
        // Its complaints while shutting down (peers already gone) are expected: kept for debugging only.
        log[stopping ? "debug" : level]({ line }, "temporal");
      }
    });
  };

  /** Starts one server process; resolves when it is ready, rejects if it exits or times out first. */
  const launch = (): Promise<void> => {
    const number = ++incarnation;
    tail = [];
    const proc = spawn(options.binary, args, {
      cwd: dataDir,
      env: { ...process.env, TEMPORAL_VERSION_CHECK_DISABLED: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child = proc;
    keepLines(proc.stdout, "debug");
    keepLines(proc.stderr, "warn");
    let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let spawnError: Error | undefined;
    proc.once("error", (error) => {
      spawnError = error;
    });
    proc.once("exit", (code, signal) => {
      exited = { code, signal };
      if (child === proc) child = undefined;
      options.onEvent?.({ kind: "exited", pid: proc.pid ?? -1, code, signal, incarnation: number });
      if (stopping) return;
      log.warn({ code, signal, pid: proc.pid, lastOutput: tail.slice(-5) }, "temporal dev server exited; restarting");
      scheduleRestart();
    });
    return (async () => {
      const deadline = Date.now() + startTimeoutMs;
      for (;;) {
        if (spawnError) throw new DevServerStartError(`could not run ${options.binary}: ${spawnError.message}`);
        if (exited) throw new DevServerStartError(`temporal dev server exited during start (${exited.signal ?? `code ${exited.code}`}):\n${tail.join("\n")}`);
        if (stopping) throw new DevServerStartError("stopped while starting");
        if (await probe(address, namespaces)) break;
        if (Date.now() > deadline) {
          proc.kill("SIGKILL");
          throw new DevServerStartError(`temporal dev server did not accept connections on ${address} within ${startTimeoutMs} ms:\n${tail.join("\n")}`);
        }
        await delay(100);
      }
      readyAt = Date.now();
      log.info({ address, pid: proc.pid, dbFile, incarnation: number }, "temporal dev server ready");
      options.onEvent?.({ kind: "ready", pid: proc.pid ?? -1, incarnation: number });
    })();
  };

  const scheduleRestart = () => {
    // A server that ran for a while before dying starts again quickly; one that keeps dying backs off.
    if (readyAt > 0 && Date.now() - readyAt > STABLE_AFTER_MS) restartDelay = initialDelay;
    const wait = restartDelay;
    restartDelay = Math.min(restartDelay * 2, maxDelay);
    current = new Promise<void>((resolveReady, rejectReady) => {
      restartTimer = setTimeout(() => {
        restartTimer = undefined;
        if (stopping) return rejectReady(new DevServerStartError("stopped"));
        restarts++;
        // A failed restart's process exits (a timeout kills it), and its exit schedules the next try.
        launch().then(resolveReady, (error: unknown) => {
          const message = (error as Error).message;
          log.error({ err: message, retryInMs: restartDelay }, "temporal dev server restart failed");
          options.onEvent?.({ kind: "restart-failed", error: message, incarnation });
          rejectReady(error);
        });
      }, wait);
    });
    current.catch(() => undefined);
  };

  try {
    await (current = launch());
  } catch (error) {
    stopping = true;
    process.removeListener("exit", killOnExit);
    child?.kill("SIGKILL");
    throw error;
  }
  if (uiUrl !== undefined) log.info({ url: uiUrl }, `temporal web UI on ${uiUrl} (loopback only)`);

  let stopped: Promise<void> | undefined;
  return {
    address,
    port,
    namespaces,
    dbFile,
    uiUrl,
    pid: () => child?.pid,
    restarts: () => restarts,
    ready: async () => {
      // A restart replaces `current` while we wait; follow it until a server is up, or no further try is coming.
      for (;;) {
        const waiting = current;
        try {
          await waiting;
          if (waiting === current) return;
        } catch (error) {
          if (stopping) throw error;
          if (waiting === current) await delay(100);
          if (waiting === current) throw error;
        }
      }
    },
    stop: () =>
      (stopped ??= (async () => {
        stopping = true;
        if (restartTimer) clearTimeout(restartTimer);
        const proc = child;
        if (proc && proc.exitCode === null && proc.signalCode === null) {
          const exit = new Promise<void>((resolveExit) => proc.once("exit", () => resolveExit()));
          proc.kill("SIGTERM");
          const timer = setTimeout(() => proc.kill("SIGKILL"), options.stopTimeoutMs ?? 10_000);
          await exit;
          clearTimeout(timer);
        }
        process.removeListener("exit", killOnExit);
        log.info({ address }, "temporal dev server stopped");
      })()),
  };
}
