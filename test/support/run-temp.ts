import { chmodSync, mkdtempSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const RUN_TEMP_PREFIX = "atomic-test-run-";

export interface RunTemp {
  path: string;
  remove(): Promise<void>;
}

/**
 * One folder for everything a test run writes to the temp directory, made the temp directory (TMPDIR) of the run
 * and of every process it starts, and removed when the run ends. About eighty test files each make their own
 * folders (generated models, gateway data, policies, benchmarks' output), and many leave them for the system to
 * clean: a run left ~250 folders behind, a killed run its PostgreSQL cluster (~70 MB). Now a run leaves nothing,
 * and a killed one a single folder named for what it is.
 *
 * World-writable and sticky as /tmp itself is: the embedded PostgreSQL of a test runs as the postgres account when
 * the run is root's, and must reach its data folder inside.
 */
export function useRunTemp(): RunTemp {
  const path = mkdtempSync(join(tmpdir(), RUN_TEMP_PREFIX));
  chmodSync(path, 0o1777);
  const previous = process.env["TMPDIR"];
  process.env["TMPDIR"] = path;
  return {
    path,
    remove: async () => {
      if (previous === undefined) delete process.env["TMPDIR"];
      else process.env["TMPDIR"] = previous;
      await rm(path, { recursive: true, force: true });
    },
  };
}
