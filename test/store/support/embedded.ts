import { readFileSync } from "node:fs";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import pg from "pg";
import type { EmbeddedPostgresLogger } from "../../../src/store/embedded/embedded-postgres.js";
import { inspectProcess, processExists } from "../../../src/store/embedded/process-inspection.js";

export interface LoggedLine {
  level: "info" | "warn";
  msg: string;
  [field: string]: unknown;
}

/** A logger that keeps what the embedded server said, for tests to read its recovery lines. */
export function recordingLogger(): EmbeddedPostgresLogger & { lines: LoggedLine[] } {
  const lines: LoggedLine[] = [];
  const record = (level: LoggedLine["level"]) => (obj: object, msg?: string) => {
    lines.push({ ...obj, level, msg: msg ?? "" });
  };
  return { lines, info: record("info"), warn: record("warn") };
}

/** A fresh parent folder the postgres account can pass through (tests may run as root), holding `data`. */
export async function temporaryDataDir(prefix: string): Promise<{ dataDir: string; remove: () => Promise<void> }> {
  const base = await mkdtemp(join(tmpdir(), prefix));
  await chmod(base, 0o755);
  return { dataDir: join(base, "data"), remove: () => rm(base, { recursive: true, force: true }) };
}

/** Null as well while PostgreSQL has created the file but not written it yet. */
export function postmasterPidOf(dataDir: string): number | null {
  try {
    const pid = Number(readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
    return pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Running, as opposed to gone, exiting, or a zombie waiting to be reaped. */
export function isRunning(pid: number): boolean {
  return processExists(pid) && inspectProcess(pid)?.exited !== true;
}

/** Whatever a failed test left running on the data directory, which is removed next: nothing to save, even frozen. */
export async function killLeftoverServer(dataDir: string): Promise<void> {
  const pid = postmasterPidOf(dataDir);
  if (pid === null || inspectProcess(pid)?.commandLine.includes(dataDir) !== true) return;
  process.kill(pid, "SIGKILL");
  for (let waited = 0; isRunning(pid) && waited < 10_000; waited += 50) await delay(50);
}

export async function query<T extends pg.QueryResultRow>(
  connectionString: string,
  sql: string,
  values: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return (await client.query<T>(sql, values)).rows;
  } finally {
    await client.end();
  }
}
