import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as delay } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmbeddedPostgres } from "../../src/store/embedded/embedded-postgres.js";
import { compiledScript } from "../support/scripts.js";
import {
  isRunning,
  killLeftoverServer,
  postmasterPidOf,
  query,
  recordingLogger,
  temporaryDataDir,
  type LoggedLine,
} from "./support/embedded.js";

const FIXTURE = compiledScript("test/store/fixtures/embedded-gateway-process.ts");

/**
 * Where each gateway dies. Killing the process group is `kill -9` of the gateway as the finding did it: the
 * server, in a group of its own, survives as an orphan. Killing the server as well, just before or just after,
 * leaves a lock naming a dead (or not yet reaped) pid, with children that may not have noticed yet.
 */
type Moment =
  | "under load"
  | "as soon as it is ready"
  | "while its new server starts"
  | "server first, then the group"
  | "group, then the orphan";

const MOMENTS: Moment[] = [
  "under load",
  "as soon as it is ready",
  "while its new server starts",
  "server first, then the group",
  "under load",
  "group, then the orphan",
];

/** A random number of rows where the moment has writing in it, so that the kills land at different points of it. */
function rowsBeforeKill(moment: Moment): number {
  if (moment === "under load") return 10 + Math.floor(Math.random() * 40);
  if (moment === "server first, then the group") return 1 + Math.floor(Math.random() * 20);
  return 0;
}

interface Gateway {
  child: ChildProcess;
  acknowledged: number;
  ready: boolean;
  log: LoggedLine[];
  stderr: string[];
  closed: Promise<unknown>;
}

/** A gateway process in a process group of its own, as a shell or a service manager would start `atomic serve`. */
function startGateway(dataDir: string, round: number): Gateway {
  const child = spawn(process.execPath, [FIXTURE], {
    env: { ...process.env, CRASH_TEST_DATA_DIR: dataDir, CRASH_TEST_ROUND: String(round) },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const gateway: Gateway = { child, acknowledged: 0, ready: false, log: [], stderr: [], closed: once(child, "close") };
  createInterface({ input: child.stdout! }).on("line", (line) => {
    const message = JSON.parse(line) as { ready?: true; ack?: number };
    if (message.ready) gateway.ready = true;
    if (message.ack !== undefined) gateway.acknowledged = message.ack;
  });
  createInterface({ input: child.stderr! }).on("line", (line) => {
    gateway.stderr.push(line);
    if (line.startsWith("{")) gateway.log.push(JSON.parse(line) as LoggedLine);
  });
  return gateway;
}

async function until(gateway: Gateway, condition: () => boolean): Promise<void> {
  while (!condition()) {
    if (gateway.child.exitCode !== null) {
      throw new Error(`the gateway exited on its own (code ${gateway.child.exitCode}):\n${gateway.stderr.join("\n")}`);
    }
    await delay(5);
  }
}

async function killGroup(gateway: Gateway): Promise<void> {
  try {
    process.kill(-gateway.child.pid!, "SIGKILL");
  } catch (error) {
    // Already gone: a gateway whose server was killed first may have crashed on its own.
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
  await gateway.closed;
}

/** What the previous gateway left on the data directory, and what the next start must say it did about it. */
type LeftBehind = { pid: number; server: "orphaned" | "dead" };

function expectRecoveryOf(leftBehind: LeftBehind | null, log: LoggedLine[]): void {
  if (leftBehind === null) return;
  const { pid } = leftBehind;
  const expected =
    leftBehind.server === "orphaned"
      ? { msg: expect.stringContaining("stopped an orphaned embedded PostgreSQL"), pid, signal: "SIGINT" }
      : { msg: expect.stringContaining("removed a stale lock file"), pid };
  expect(log).toContainEqual(expect.objectContaining(expected));
}

let dataDir: string;
let removeDataDir: () => Promise<void>;
const gateways: Gateway[] = [];

beforeAll(async () => {
  ({ dataDir, remove: removeDataDir } = await temporaryDataDir("atomic-embedded-crash-"));
});

afterAll(async () => {
  for (const gateway of gateways) {
    if (gateway.child.exitCode === null && gateway.child.signalCode === null) await killGroup(gateway);
  }
  await killLeftoverServer(dataDir);
  await removeDataDir();
});

describe("a gateway killed with its whole process group, again and again", () => {
  it("comes back by itself every time, saying what it recovered, with every acknowledged row intact", async () => {
    const acknowledged: number[] = [];
    let leftBehind: LeftBehind | null = null;

    for (const [round, moment] of MOMENTS.entries()) {
      const gateway = startGateway(dataDir, round);
      gateways.push(gateway);
      const previousPid = leftBehind?.pid ?? null;
      if (moment === "while its new server starts") {
        await until(gateway, () => ![null, previousPid].includes(postmasterPidOf(dataDir)));
      } else {
        await until(gateway, () => gateway.ready && gateway.acknowledged >= rowsBeforeKill(moment));
      }
      const serverPid = postmasterPidOf(dataDir)!;

      if (moment === "server first, then the group") process.kill(serverPid, "SIGKILL");
      await killGroup(gateway);
      if (moment === "group, then the orphan") process.kill(serverPid, "SIGKILL");
      acknowledged[round] = gateway.acknowledged;
      // Read once the gateway is gone: by then every line it wrote has arrived.
      expectRecoveryOf(leftBehind, gateway.log);

      const killedServer = moment === "server first, then the group" || moment === "group, then the orphan";
      // The finding itself: without the server killed too, it outlives its gateway.
      if (!killedServer) expect(isRunning(serverPid), `round ${round} (${moment})`).toBe(true);
      leftBehind = { pid: serverPid, server: killedServer ? "dead" : "orphaned" };
    }

    const logger = recordingLogger();
    const server = await startEmbeddedPostgres({ dataDir, logger });
    try {
      expectRecoveryOf(leftBehind, logger.lines);
      for (const [round, count] of acknowledged.entries()) {
        const [row] = await query<{ kept: number }>(
          server.connectionString,
          "SELECT count(*)::int AS kept FROM acknowledged WHERE round = $1 AND n <= $2",
          [round, count],
        );
        expect(row?.kept, `round ${round} (${MOMENTS[round]})`).toBe(count);
      }
    } finally {
      await server.stop();
    }
    expect(postmasterPidOf(dataDir)).toBeNull();
    expect(acknowledged.reduce((sum, count) => sum + count, 0)).toBeGreaterThan(20);
  });

  it("pushes an orphan that ignores the fast shutdown through immediate shutdown to SIGKILL", async () => {
    const round = 100;
    const gateway = startGateway(dataDir, round);
    gateways.push(gateway);
    await until(gateway, () => gateway.ready && gateway.acknowledged >= 5);
    const orphan = postmasterPidOf(dataDir)!;
    await killGroup(gateway);
    // Frozen, it cannot act on any shutdown request; only SIGKILL ends it.
    process.kill(orphan, "SIGSTOP");

    const logger = recordingLogger();
    const server = await startEmbeddedPostgres({ dataDir, logger, stopTimeoutMs: 200 });
    try {
      const escalations = logger.lines.filter((line) => line.msg.includes("escalating")).map((line) => line.signal);
      expect(escalations).toEqual(["SIGINT", "SIGQUIT"]);
      expect(logger.lines).toContainEqual(expect.objectContaining({ pid: orphan, signal: "SIGKILL", mode: "kill" }));
      expect(isRunning(orphan)).toBe(false);
      const [row] = await query<{ kept: number }>(
        server.connectionString,
        "SELECT count(*)::int AS kept FROM acknowledged WHERE round = $1 AND n <= $2",
        [round, gateway.acknowledged],
      );
      expect(row?.kept).toBe(gateway.acknowledged);
    } finally {
      await server.stop();
    }
  });

  it("initialises afresh after a gateway killed during its very first initdb", async () => {
    const fresh = await temporaryDataDir("atomic-embedded-first-");
    try {
      const gateway = startGateway(fresh.dataDir, 200);
      gateways.push(gateway);
      // initdb writes PG_VERSION first and the cluster after it: a kill then leaves a cluster half made.
      const started = () => readdirSync(dirname(fresh.dataDir)).some((name) => existsSync(join(dirname(fresh.dataDir), name, "PG_VERSION")));
      await until(gateway, started);
      await killGroup(gateway);
      expect(gateway.ready).toBe(false);

      const logger = recordingLogger();
      const server = await startEmbeddedPostgres({ dataDir: fresh.dataDir, logger });
      try {
        expect(logger.lines).toContainEqual(expect.objectContaining({ msg: expect.stringContaining("interrupted first start"), pid: gateway.child.pid }));
        const [row] = await query<{ one: number }>(server.connectionString, "SELECT 1 AS one");
        expect(row?.one).toBe(1);
      } finally {
        await server.stop();
      }
      // Nothing of the interrupted attempt is left beside the data directory.
      expect(readdirSync(dirname(fresh.dataDir))).toEqual(["data"]);
    } finally {
      await killLeftoverServer(fresh.dataDir);
      await fresh.remove();
    }
  });
});
