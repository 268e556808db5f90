import { readdirSync } from "node:fs";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Pool } from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { createTestDatabase } from "../../../test/support/database.js";
import { createPool } from "./database.js";
import { migrate } from "./migrate.js";

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function freshPool(): Promise<Pool> {
  const database = await createTestDatabase();
  cleanups.push(() => database.drop());
  const pool = createPool(database.url);
  cleanups.push(() => pool.end());
  return pool;
}

async function migrationsFolder(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "atomic-migrations-test-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  for (const [name, sql] of Object.entries(files)) await writeFile(join(dir, name), sql);
  return dir;
}

async function tableExists(pool: Pool, table: string): Promise<boolean> {
  const result = await pool.query<{ found: string | null }>("SELECT to_regclass($1)::text AS found", [table]);
  return result.rows[0]?.found != null;
}

/** The migrations this build ships, read from the folder migrate() reads. */
const SHIPPED = readdirSync(new URL("./migrations/", import.meta.url)).filter((name) => name.endsWith(".sql")).sort();

describe("migrate", () => {
  it("applies the shipped migrations once and records each with its checksum", async () => {
    expect(SHIPPED.slice(0, 2)).toEqual(["0001_init.sql", "0002_audit.sql"]);
    const pool = await freshPool();
    expect(await migrate(pool)).toEqual({ applied: SHIPPED });

    const recorded = await pool.query("SELECT version, name, checksum FROM schema_migrations ORDER BY version");
    expect(recorded.rows).toEqual(await Promise.all(SHIPPED.map(async (name) => ({
      version: Number(name.slice(0, 4)),
      name,
      checksum: createHash("sha256").update(await readFile(new URL(`./migrations/${name}`, import.meta.url))).digest("hex"),
    }))));
    expect(await tableExists(pool, "executions")).toBe(true);
    expect(await tableExists(pool, "schemas")).toBe(true);

    expect(await migrate(pool)).toEqual({ applied: [] });
  });

  it("lets two gateways migrate the same database at once without failing or applying anything twice", async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const pools = [createPool(database.url), createPool(database.url)];
    cleanups.push(async () => {
      for (const pool of pools) await pool.end();
    });

    const results = await Promise.all(pools.map((pool) => migrate(pool)));

    expect(results.flatMap((result) => result.applied).sort()).toEqual(SHIPPED);
    const count = await pools[0]?.query<{ n: number }>("SELECT count(*)::int AS n FROM schema_migrations");
    expect(count?.rows[0]?.n).toBe(SHIPPED.length);
  });

  it("applies pending migrations in version order on top of those already applied", async () => {
    const pool = await freshPool();
    const first = { "0001_notes.sql": "CREATE TABLE notes (id int PRIMARY KEY);" };
    await migrate(pool, { migrationsDir: await migrationsFolder(first) });

    const later = await migrationsFolder({
      ...first,
      "0003_index.sql": "CREATE INDEX notes_body_idx ON notes (body);",
      "0002_body.sql": "ALTER TABLE notes ADD COLUMN body text;",
    });
    expect(await migrate(pool, { migrationsDir: later })).toEqual({ applied: ["0002_body.sql", "0003_index.sql"] });
  });

  it("refuses to run when an applied migration's file has changed, naming the file", async () => {
    const pool = await freshPool();
    await migrate(pool, { migrationsDir: await migrationsFolder({ "0001_notes.sql": "CREATE TABLE notes (id int);" }) });

    const edited = await migrationsFolder({
      "0001_notes.sql": "CREATE TABLE notes (id bigint);",
      "0002_more.sql": "CREATE TABLE more (id int);",
    });
    await expect(migrate(pool, { migrationsDir: edited })).rejects.toThrow(/migration 0001_notes\.sql changed/);
    expect(await tableExists(pool, "more")).toBe(false);
  });

  it("refuses a database migrated by a newer build", async () => {
    const pool = await freshPool();
    await migrate(pool, {
      migrationsDir: await migrationsFolder({ "0001_a.sql": "SELECT 1;", "0002_b.sql": "SELECT 2;" }),
    });
    const older = await migrationsFolder({ "0001_a.sql": "SELECT 1;" });
    await expect(migrate(pool, { migrationsDir: older })).rejects.toThrow(/0002_b\.sql.*does not ship/);
  });

  it("rolls back a failing migration entirely and records nothing for it", async () => {
    const pool = await freshPool();
    const dir = await migrationsFolder({
      "0001_ok.sql": "CREATE TABLE ok (id int);",
      "0002_broken.sql": "CREATE TABLE half (id int); SELECT no_such_function();",
    });
    await expect(migrate(pool, { migrationsDir: dir })).rejects.toThrow(/no_such_function/);

    expect(await tableExists(pool, "ok")).toBe(true);
    expect(await tableExists(pool, "half")).toBe(false);
    const versions = await pool.query<{ version: number }>("SELECT version FROM schema_migrations ORDER BY version");
    expect(versions.rows).toEqual([{ version: 1 }]);
  });

  it("refuses migration files that do not follow the naming scheme", async () => {
    const pool = await freshPool();
    const dir = await migrationsFolder({ "1_init.sql": "SELECT 1;" });
    await expect(migrate(pool, { migrationsDir: dir })).rejects.toThrow(/1_init\.sql is not named NNNN_/);
  });
});
