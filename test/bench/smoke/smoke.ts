import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { expect } from "vitest";
import { createTestDatabase } from "../../support/database.js";
import { compiledScript } from "../../support/scripts.js";

/**
 * Every benchmark script runs once here, in a smoke mode (a handful of iterations), so that one that breaks fails
 * the test command instead of waiting for the next person who measures: `bench:tasks` once failed for weeks on
 * encrypted payloads, `bench:policy` on a small request count. Only that the script runs to the end and prints its
 * sections is checked; the figures of a smoke run mean nothing and are never asserted. One file per group of
 * benchmarks (test/bench/smoke/*.test.ts), so that the two test workers share them instead of one running all.
 */
const repoRoot = resolve(import.meta.dirname, "..", "..", "..");

export interface ScriptRun {
  code: number;
  output: string;
}

/**
 * A TypeScript script of the repository run to its end from the run's build, as `npm run bench*` runs it through
 * tsx: its exit code and its output.
 */
export function runScript(script: string, args: string[], env: Record<string, string> = {}): Promise<ScriptRun> {
  return new Promise((done) => {
    execFile(process.execPath, [compiledScript(script), ...args], {
      cwd: repoRoot, env: { ...process.env, ...env }, maxBuffer: 16 << 20, timeout: 240_000,
    }, (error, stdout, stderr) => done({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, output: `${stdout}${stderr}` }));
  });
}

/** The time one benchmark may take in smoke mode. */
export const SMOKE_TIMEOUT = 300_000;

/**
 * The script on a database of its own on the run's server, as DATABASE_URL (which the benchmarks' database server,
 * support/database-server.ts, takes as it is): otherwise each starts a PostgreSQL cluster of its own, initdb
 * included, ~1.2 s of CPU before the server's own. `absent`: errors the script once printed while still exiting 0.
 */
export async function smoke(script: string, env: Record<string, string>, sections: RegExp[], args: string[] = [], absent: RegExp[] = []): Promise<void> {
  const database = await createTestDatabase();
  try {
    const { code, output } = await runScript(script, args, { DATABASE_URL: database.url, ...env });
    expect(code, output.slice(-4000)).toBe(0);
    for (const section of sections) expect(output).toMatch(section);
    for (const error of absent) expect(output).not.toMatch(error);
  } finally {
    await database.drop();
  }
}

