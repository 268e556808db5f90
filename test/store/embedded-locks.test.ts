import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "../../src/store/embedded/embedded-postgres.js";
import { inspectProcess } from "../../src/store/embedded/process-inspection.js";
import { lookupSystemUser } from "../../src/store/embedded/system-user.js";
import {
  isRunning,
  killLeftoverServer,
  postmasterPidOf,
  query,
  recordingLogger,
  temporaryDataDir,
  type LoggedLine,
} from "./support/embedded.js";

/** As root the server runs as postgres: a process standing in for one must run as that account too. */
const serverAccount = process.getuid?.() === 0 ? lookupSystemUser("postgres") : null;
const asServerAccount = serverAccount === null ? {} : { uid: serverAccount.uid, gid: serverAccount.gid };

const STALE_LOCK_REMOVED = expect.stringContaining("removed a stale lock file");

let dataDir: string;
let removeDataDir: () => Promise<void>;
const strays: ChildProcess[] = [];
const servers: EmbeddedPostgres[] = [];

beforeAll(async () => {
  ({ dataDir, remove: removeDataDir } = await temporaryDataDir("atomic-embedded-locks-"));
  // One cluster for the whole file: initdb is the slow part, and every test leaves the directory stopped.
  const server = await startEmbeddedPostgres({ dataDir });
  await query(server.connectionString, "CREATE TABLE kept (body text); INSERT INTO kept VALUES ('still here')");
  await server.stop();
});

afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop();
  for (const stray of strays.splice(0)) stray.kill("SIGKILL");
});

afterAll(async () => {
  await killLeftoverServer(dataDir);
  await removeDataDir();
});

/** Starts on the shared data directory, checks the data survived, and returns what the server logged. */
async function startRecording(): Promise<LoggedLine[]> {
  const logger = recordingLogger();
  const server = await startEmbeddedPostgres({ dataDir, logger });
  servers.push(server);
  expect(await query(server.connectionString, "SELECT body FROM kept")).toEqual([{ body: "still here" }]);
  return logger.lines;
}

/** The lock file PostgreSQL writes, as far as its readers here care: pid, then data directory. */
function writeLock(name: string, pid: number): string {
  const path = join(dataDir, name);
  writeFileSync(path, `${pid}\n${dataDir}\n`);
  return path;
}

interface StrayOptions {
  cwd?: string;
  asServerAccount?: boolean;
}

function spawnStray(command: string, args: string[], options: StrayOptions = {}): ChildProcess {
  const identity = options.asServerAccount ? asServerAccount : {};
  const stray = spawn(command, args, { cwd: options.cwd, ...identity, stdio: ["ignore", "pipe", "ignore"] });
  strays.push(stray);
  return stray;
}

async function deadPid(): Promise<number> {
  const gone = spawnStray("true", []);
  await once(gone, "exit");
  return gone.pid!;
}

describe("embedded PostgreSQL lock recovery", () => {
  it("removes a postmaster.pid whose pid is gone, and says so", async () => {
    const pid = await deadPid();
    const path = writeLock("postmaster.pid", pid);

    const lines = await startRecording();
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: STALE_LOCK_REMOVED, path, pid, reason: "no such process" }),
    );
  });

  it("removes a lock whose pid is a zombie, which PostgreSQL itself takes for a live server", async () => {
    // The shell forks a child that exits a moment later, once the shell has become a sleep that never collects it.
    // A shell slowed past that moment may collect the child itself before it execs: then it is gone, and again.
    let zombie = 0;
    for (let attempt = 0; zombie === 0 && attempt < 5; attempt++) {
      const parent = spawnStray("sh", ["-c", "sleep 0.2 & echo $!; exec sleep 30"], { asServerAccount: true });
      const [line] = (await once(createInterface({ input: parent.stdout! }), "line")) as [string];
      const child = Number(line);
      for (;;) {
        const state = inspectProcess(child);
        if (state === null) break;
        if (state.exited) {
          zombie = child;
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
    expect(zombie).toBeGreaterThan(0);
    writeLock("postmaster.pid", zombie);

    const lines = await startRecording();
    expect(lines).toContainEqual(expect.objectContaining({ msg: STALE_LOCK_REMOVED, pid: zombie }));
  });

  it("takes a lock naming an unrelated live process for stale, without signalling that process", async () => {
    const stranger = spawnStray("sleep", ["30"]);
    const postmasterLock = writeLock("postmaster.pid", stranger.pid!);
    const socketLock = writeLock(".s.PGSQL.5432.lock", stranger.pid!);

    const lines = await startRecording();
    for (const path of [postmasterLock, socketLock]) {
      expect(lines).toContainEqual(
        expect.objectContaining({ msg: STALE_LOCK_REMOVED, path, pid: stranger.pid }),
      );
    }
    expect(isRunning(stranger.pid!)).toBe(true);
  });

  it("refuses, naming pid and lock file, a live process that may hold the directory but is not Atomic's", async () => {
    // Same account as a server, working in the data directory: only its binary tells it from one.
    const stranger = spawnStray("sleep", ["30"], { cwd: dataDir, asServerAccount: true });
    await waitForWorkingDirectory(stranger.pid!, dataDir);
    const path = writeLock("postmaster.pid", stranger.pid!);

    const refusal = `locked by pid ${stranger.pid} \\(named in ${escape(path)}\\), which Atomic will not stop: it runs .*sleep`;
    await expect(startEmbeddedPostgres({ dataDir })).rejects.toThrow(new RegExp(refusal));
    expect(isRunning(stranger.pid!)).toBe(true);
    expect(readFileSync(path, "utf8")).toBe(`${stranger.pid}\n${dataDir}\n`);
    await rm(path);
  });

  it("retries while the children of a server killed a moment ago still hold its shared memory", async () => {
    const first = await startEmbeddedPostgres({ dataDir });
    servers.push(first);
    const postmaster = postmasterPidOf(dataDir)!;
    // A child frozen so that it cannot notice its postmaster's death, then thawed while the next start retries.
    const child = childrenOf(postmaster)[0]!;
    process.kill(child, "SIGSTOP");
    try {
      process.kill(postmaster, "SIGKILL");
      await first.stop();
      setTimeout(() => resume(child), 700);

      const lines = await startRecording();
      expect(lines).toContainEqual(
        expect.objectContaining({
          msg: expect.stringContaining("still locked; retrying"),
          reason: expect.stringContaining("pre-existing shared memory block"),
        }),
      );
    } finally {
      resume(child);
    }
  });
});

/** Once thawed, the child exits (and may be reaped) at any moment. */
function resume(pid: number): void {
  try {
    process.kill(pid, "SIGCONT");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

function childrenOf(pid: number): number[] {
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((candidate) => inspectProcess(candidate)?.parentPid === pid);
}

async function waitForWorkingDirectory(pid: number, dir: string): Promise<void> {
  while (inspectProcess(pid)?.workingDirectory !== dir) await new Promise((resolve) => setTimeout(resolve, 10));
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
