import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Pool, PoolClient } from "pg";
import { inTransaction } from "./transaction.js";

/**
 * Resolved next to this module, in src/ under tests and in dist/ once built. tsc does not copy .sql files: the
 * build script copies src/store/postgres/migrations to dist/store/postgres/.
 */
const BUNDLED_MIGRATIONS = new URL("./migrations/", import.meta.url);

/**
 * Every gateway takes this transaction-scoped advisory lock before it reads or changes schema_migrations, so two
 * processes starting at once apply each migration exactly once. The value is "atomic" in ASCII; any constant that
 * all versions agree on would do.
 */
const MIGRATION_LOCK_KEY = 107152713541987n;

const MIGRATION_FILE = /^(\d{4})_([a-z0-9_]+)\.sql$/;

export interface MigrateOptions {
  /** Tests point this at their own folder; production uses the migrations shipped with this module. */
  migrationsDir?: string | URL;
  logger?: { info(obj: object, msg?: string): void };
}

interface Migration {
  version: number;
  file: string;
  sql: string;
  checksum: string;
}

interface AppliedMigration {
  version: number;
  name: string;
  checksum: string;
}

/** Applies pending migrations in version order, each in its own transaction; returns the files it applied. */
export async function migrate(pool: Pool, options: MigrateOptions = {}): Promise<{ applied: string[] }> {
  const migrations = await readMigrations(options.migrationsDir ?? BUNDLED_MIGRATIONS);
  const alreadyApplied = await inMigrationLock(pool, async (client) => {
    await client.query(`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version int PRIMARY KEY,
        name text NOT NULL,
        checksum text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    const applied = await readApplied(client);
    verifyApplied(applied, migrations);
    return new Set(applied.map((row) => row.version));
  });

  const applied: string[] = [];
  for (const migration of migrations.filter((m) => !alreadyApplied.has(m.version))) {
    const ran = await inMigrationLock(pool, async (client) => {
      // Another gateway may have applied it between our check and taking the lock.
      const existing = await client.query("SELECT 1 FROM schema_migrations WHERE version = $1", [migration.version]);
      if (existing.rowCount !== 0) return false;
      await client.query(migration.sql);
      await client.query("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)", [
        migration.version,
        migration.file,
        migration.checksum,
      ]);
      return true;
    });
    if (ran) {
      applied.push(migration.file);
      options.logger?.info({ migration: migration.file }, "applied database migration");
    }
  }
  return { applied };
}

async function readMigrations(dir: string | URL): Promise<Migration[]> {
  const path = typeof dir === "string" ? dir : fileURLToPath(dir);
  const files = (await readdir(path)).filter((file) => file.endsWith(".sql")).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const match = MIGRATION_FILE.exec(file);
    if (match === null) throw new Error(`migration file ${join(path, file)} is not named NNNN_snake_case_name.sql`);
    const version = Number(match[1]);
    const previous = migrations.at(-1);
    if (previous?.version === version) {
      throw new Error(`migrations ${previous.file} and ${file} in ${path} share version ${version}`);
    }
    const bytes = await readFile(join(path, file));
    migrations.push({ version, file, sql: bytes.toString("utf8"), checksum: sha256(bytes) });
  }
  return migrations;
}

/**
 * A migration edited after it ran would leave databases that ran the old text and databases that ran the new text
 * believing they share a schema; a database migrated by a newer build may hold tables this one misreads.
 */
function verifyApplied(applied: AppliedMigration[], migrations: Migration[]): void {
  for (const row of applied) {
    const known = migrations.find((m) => m.version === row.version);
    if (known === undefined) {
      throw new Error(
        `the database has migration ${row.name} (version ${row.version}), which this build does not ship: ` +
          "it was migrated by a newer version of the gateway",
      );
    }
    if (known.checksum !== row.checksum) {
      throw new Error(
        `migration ${known.file} changed after it was applied to this database (recorded checksum ${row.checksum}, ` +
          `file now ${known.checksum}); restore the file and put the change in a new migration`,
      );
    }
  }
}

async function readApplied(client: PoolClient): Promise<AppliedMigration[]> {
  const result = await client.query<AppliedMigration>(
    "SELECT version, name, checksum FROM schema_migrations ORDER BY version",
  );
  return result.rows;
}

function inMigrationLock<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  return inTransaction(pool, async (client) => {
    // Waiting for another gateway's migration, or running a long one, must not trip the pool's statement timeout.
    await client.query("SET LOCAL statement_timeout = 0");
    await client.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
    return work(client);
  });
}

function sha256(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}
