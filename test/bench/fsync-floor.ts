/**
 * The durable floor: no durable answer can come back sooner than the disk takes to flush one commit. Measured as
 * PostgreSQL's own pg_test_fsync measures its default WAL sync method on Linux: a 16 MiB file (one WAL segment)
 * written and flushed once, then 8 KiB (one WAL block) written at its start and fdatasync'ed, again and again, each
 * write+flush timed. The file goes where PostgreSQL flushes its WAL (pg_wal of the server's data directory), so the
 * figure is that disk's; when that folder is not on this machine or not writable, the caller's fallback folder.
 */
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, fdatasyncSync, fsyncSync, openSync, realpathSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import pg from "pg";

const SEGMENT_BYTES = 16 * 1024 * 1024;
const BLOCK_BYTES = 8 * 1024;

export interface DatabaseDurability {
  /** Where the server flushes its WAL, when it is a folder on this machine; undefined otherwise. */
  walDir: string | undefined;
  /** fsync, synchronous_commit, wal_sync_method as the server reports them: what "durable" means there. */
  settings: Record<string, string>;
}

/** Asks the server where its WAL is and how it flushes it (reading data_directory needs a superuser or pg_read_all_settings). */
export async function databaseDurability(databaseUrl: string): Promise<DatabaseDurability> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const settings: Record<string, string> = {};
    for (const name of ["fsync", "synchronous_commit", "wal_sync_method", "commit_delay"]) {
      settings[name] = (await db.query<{ value: string }>("SELECT current_setting($1) AS value", [name])).rows[0]!.value;
    }
    const dataDir = await db.query<{ value: string }>("SELECT current_setting('data_directory') AS value").then((r) => r.rows[0]!.value, () => undefined);
    const wal = dataDir === undefined ? undefined : join(dataDir, "pg_wal");
    // pg_wal may be a link to a disk of its own: the floor is that disk's.
    return { walDir: wal !== undefined && existsSync(wal) ? realpathSync(wal) : undefined, settings };
  } finally {
    await db.end();
  }
}

export interface FsyncFloor {
  dir: string;
  /** Milliseconds per 8 KiB write + fdatasync. */
  sample: number[];
}

/**
 * `count` timed write+fdatasync rounds in `dir`, else (not writable) in `fallbackDir`. The probe file is removed
 * afterwards; PostgreSQL ignores files in pg_wal whose names are not WAL segment names.
 */
export function measureFsyncFloor(dirs: { preferred: string | undefined; fallback: string }, count: number): FsyncFloor {
  for (const dir of [dirs.preferred, dirs.fallback]) {
    if (dir === undefined) continue;
    const file = join(dir, `atomic-fsync-probe.${process.pid}`);
    let fd: number;
    try {
      fd = openSync(file, "wx", 0o600);
    } catch {
      continue;
    }
    try {
      const chunk = randomBytes(1024 * 1024);
      for (let written = 0; written < SEGMENT_BYTES; written += chunk.length) writeSync(fd, chunk);
      fsyncSync(fd);
      const block = randomBytes(BLOCK_BYTES);
      const sample: number[] = [];
      for (let i = 0; i < count + 10; i++) {
        const started = performance.now();
        writeSync(fd, block, 0, BLOCK_BYTES, 0);
        fdatasyncSync(fd);
        // The first few warm the path (page cache entries, the journal); pg_test_fsync runs long enough not to care.
        if (i >= 10) sample.push(performance.now() - started);
      }
      return { dir, sample };
    } finally {
      closeSync(fd);
      unlinkSync(file);
    }
  }
  throw new Error(`could not write a probe file in ${dirs.preferred ?? "(no WAL folder)"} nor ${dirs.fallback}`);
}
