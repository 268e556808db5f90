import { appendFile, chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "./embedded-postgres.js";

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function temporaryDirectory(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "atomic-embedded-test-"));
  // mkdtemp makes it 0700; as root, the postgres account must be able to pass through to folders inside.
  await chmod(dir, 0o755);
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function start(dataDir: string): Promise<EmbeddedPostgres> {
  const server = await startEmbeddedPostgres({ dataDir });
  cleanups.push(() => server.stop());
  return server;
}

async function query<T extends pg.QueryResultRow>(connectionString: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe("embedded PostgreSQL", () => {
  it("keeps data across a stop and a restart on the same data directory", async () => {
    const dataDir = await temporaryDirectory();
    const first = await start(dataDir);
    await query(first.connectionString, "CREATE TABLE notes (body text); INSERT INTO notes VALUES ('kept')");
    await first.stop();

    const second = await start(dataDir);
    expect(await query(second.connectionString, "SELECT body FROM notes")).toEqual([{ body: "kept" }]);
  });

  it("listens on no TCP port, keeps fsync on, and writes its log into the data directory", async () => {
    const dataDir = await temporaryDirectory();
    const server = await start(dataDir);
    const [settings] = await query<{ listen: string; fsync: string; db: string; user: string }>(
      server.connectionString,
      "SELECT current_setting('listen_addresses') AS listen, current_setting('fsync') AS fsync, " +
        "current_database() AS db, current_user AS user",
    );
    expect(settings).toEqual({ listen: "", fsync: "on", db: "atomic", user: "atomic" });
    expect(await readFile(join(dataDir, "postgres.log"), "utf8")).toContain("ready to accept connections");
  });

  it("starts after the previous server was killed and left its postmaster.pid behind", async () => {
    const dataDir = await temporaryDirectory();
    const first = await start(dataDir);
    await query(first.connectionString, "CREATE TABLE survivors (n int); INSERT INTO survivors VALUES (1)");
    const pid = Number((await readFile(join(dataDir, "postmaster.pid"), "utf8")).split("\n")[0]);
    process.kill(pid, "SIGKILL");
    await first.stop();
    expect(await readdir(dataDir)).toContain("postmaster.pid");

    const second = await start(dataDir);
    expect(await query(second.connectionString, "SELECT n FROM survivors")).toEqual([{ n: 1 }]);
  });

  it("puts the socket in a short private directory when the data directory path is too long for one", async () => {
    const base = await temporaryDirectory();
    const dataDir = join(base, "a-rather-long-folder-name-".repeat(4), "data");
    const server = await start(dataDir);
    const socketDir = new URLSearchParams(server.connectionString.split("?")[1]).get("host") ?? "";
    expect(socketDir.startsWith(dataDir)).toBe(false);
    expect(await query(server.connectionString, "SELECT 1 AS one")).toEqual([{ one: 1 }]);

    await server.stop();
    await expect(readdir(socketDir)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("refuses a data directory whose server is still supervised by a live gateway, and leaves that server alone", async () => {
    const dataDir = await temporaryDirectory();
    const first = await start(dataDir);
    // This process started the first server and is alive: it is no orphan to stop.
    await expect(startEmbeddedPostgres({ dataDir })).rejects.toThrow(
      `(named in ${join(dataDir, "postmaster.pid")}), which Atomic will not stop: the Atomic process that started it ` +
        `(pid ${process.pid}) is still running`,
    );
    expect(await query(first.connectionString, "SELECT 1 AS one")).toEqual([{ one: 1 }]);
  });

  it("reports the server's own words when it cannot start, without retrying what no retry cures", async () => {
    const dataDir = await temporaryDirectory();
    await (await start(dataDir)).stop();
    await appendFile(join(dataDir, "postgresql.auto.conf"), "shared_buffers = 'plenty'\n");
    const warnings: string[] = [];
    const logger = { info: () => undefined, warn: (_: object, msg?: string) => warnings.push(msg ?? "") };
    await expect(startEmbeddedPostgres({ dataDir, logger })).rejects.toThrow(/exited during start[\s\S]*"shared_buffers"/);
    expect(warnings.filter((warning) => warning.includes("retrying"))).toEqual([]);
  });

  it("reports initdb's own words when the data directory already holds something else", async () => {
    const dataDir = await temporaryDirectory();
    await writeFile(join(dataDir, "notes.txt"), "not a cluster");
    await expect(startEmbeddedPostgres({ dataDir })).rejects.toThrow(/initdb failed[\s\S]*not empty/);
  });

  it("refuses a data directory the server account cannot reach only when it runs as another account", async () => {
    const base = await temporaryDirectory();
    const privateFolder = join(base, "private");
    await mkdir(privateFolder, { mode: 0o700 });
    await chmod(privateFolder, 0o700);
    const dataDir = join(privateFolder, "data");

    if (process.getuid?.() === 0) {
      // As root the server runs as the postgres account, which may not enter a root-owned 0700 folder.
      await expect(startEmbeddedPostgres({ dataDir })).rejects.toThrow(`may not enter ${privateFolder}`);
    } else {
      const server = await start(dataDir);
      expect(await query(server.connectionString, "SELECT 1 AS one")).toEqual([{ one: 1 }]);
    }
  });
});
