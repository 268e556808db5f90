import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { EmbeddedPostgresUnavailableError, runningServerConnection } from "./running-server.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A data directory whose postmaster.pid says what a server would: pid, directory, start, port, socket, -, key, status. */
function dataDirWithLock(pid: number, status: string, socketDir = "/nonexistent-socket-dir"): string {
  const dir = mkdtempSync(join(tmpdir(), "atomic-running-server-"));
  dirs.push(dir);
  writeFileSync(join(dir, "postmaster.pid"), `${pid}\n${dir}\n1700000000\n5432\n${socketDir}\n\n  5432001 0\n${status}\n`);
  return dir;
}

/** The pid of a process that has exited and been reaped. */
function deadPid(): number {
  return spawnSync("true").pid!;
}

describe("runningServerConnection", () => {
  it("is null where no server runs: no lock file, or the lock of a process that is gone", async () => {
    const empty = mkdtempSync(join(tmpdir(), "atomic-running-server-"));
    dirs.push(empty);
    expect(await runningServerConnection(empty)).toBeNull();
    expect(await runningServerConnection(dataDirWithLock(deadPid(), "ready   "))).toBeNull();
  });

  it("refuses, in one line, a server that is starting, stopping, or not answering on its socket", async () => {
    for (const [status, said] of [["starting", "is starting"], ["stopping", "is stopping"], ["", "is starting"], ["ready   ", "is not accepting connections (ENOENT)"]] as const) {
      const error = await runningServerConnection(dataDirWithLock(process.pid, status)).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(EmbeddedPostgresUnavailableError);
      expect((error as Error).message).toContain(said);
      expect((error as Error).message).not.toContain("\n");
    }
  });
});
