import { accessSync, constants, readdirSync } from "node:fs";
import { join } from "node:path";

/** Where Debian's postgresql-NN packages put their server binaries. */
const DEBIAN_POSTGRES_ROOT = "/usr/lib/postgresql";

const INSTALL_HINT =
  "install the postgresql Debian package (apt-get install postgresql), " +
  "or set ATOMIC_PG_BIN_DIR to a folder holding initdb and postgres, or set DATABASE_URL to use an existing server";

export interface PostgresBinaries {
  binDir: string;
  initdb: string;
  postgres: string;
}

export interface LocateOptions {
  binDir?: string;
  env?: NodeJS.ProcessEnv;
  /** Overridable so tests can point the search at a fake tree. */
  searchRoot?: string;
}

/**
 * An explicit folder (option, then ATOMIC_PG_BIN_DIR) must be valid: silently falling back to another PostgreSQL
 * version would initialise a data directory that the intended version cannot open.
 */
export function locatePostgresBinaries(options: LocateOptions = {}): PostgresBinaries {
  const explicit = options.binDir ?? (options.env ?? process.env)["ATOMIC_PG_BIN_DIR"];
  if (explicit !== undefined && explicit !== "") {
    const found = binariesIn(explicit);
    if (found === null) {
      throw new Error(`no executable initdb and postgres in ${explicit}: ${INSTALL_HINT}`);
    }
    return found;
  }
  const searchRoot = options.searchRoot ?? DEBIAN_POSTGRES_ROOT;
  for (const version of installedVersions(searchRoot)) {
    const found = binariesIn(join(searchRoot, version, "bin"));
    if (found !== null) return found;
  }
  throw new Error(`no PostgreSQL server binaries found under ${searchRoot}: ${INSTALL_HINT}`);
}

/** Highest first, compared numerically so that 10 sorts above 9. */
function installedVersions(searchRoot: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(searchRoot);
  } catch {
    return [];
  }
  return entries.filter((name) => /^\d+(\.\d+)?$/.test(name)).sort((a, b) => Number(b) - Number(a));
}

function binariesIn(binDir: string): PostgresBinaries | null {
  const initdb = join(binDir, "initdb");
  const postgres = join(binDir, "postgres");
  return isExecutable(initdb) && isExecutable(postgres) ? { binDir, initdb, postgres } : null;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
