import { existsSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** Where a child process or worker thread that Atomic starts runs from, and whether it needs tsx's loader. */
export interface SiblingEntry {
  url: URL;
  needsLoader: boolean;
}

/**
 * Names a compiled copy of the TypeScript source Atomic runs from, laid out as `npm run build` lays out dist/. Only
 * the test run sets it (test/support/test-build.ts builds the copy from the source as it is at the start of the
 * run); operators run dist/, where it is never read.
 */
export const COMPILED_SOURCE_ENV = "ATOMIC_COMPILED_SOURCE";

const SOURCE_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * The module `name` (no extension) beside the caller's module, as the entry of a process or thread Atomic starts.
 * Built, it is the compiled JavaScript beside the caller. Run from source (tests, tsx), it is the TypeScript, which
 * needs tsx's loader; unless ATOMIC_COMPILED_SOURCE names a compiled copy of that source holding the module, whose
 * JavaScript starts without a loader: tsx hooks every module a child loads, node-llama-cpp's hundreds included,
 * which cost a model host ~1 s of CPU more to start (1.75 against 0.65 s on the 2-vCPU build machine).
 */
export function siblingEntry(callerUrl: string, name: string): SiblingEntry {
  if (!callerUrl.endsWith(".ts")) return { url: new URL(`./${name}.js`, callerUrl), needsLoader: false };
  const source = new URL(`./${name}.ts`, callerUrl);
  const compiledRoot = process.env[COMPILED_SOURCE_ENV];
  if (compiledRoot !== undefined && compiledRoot !== "") {
    const compiled = join(compiledRoot, relative(SOURCE_ROOT, fileURLToPath(source))).replace(/\.ts$/, ".js");
    if (existsSync(compiled)) return { url: pathToFileURL(compiled), needsLoader: false };
  }
  return { url: source, needsLoader: true };
}

/** A child process's path and the execArgv that lets node run it (tsx's loader when it is TypeScript). */
export function childProcessEntry(callerUrl: string, name: string): { path: string; execArgv: string[] } {
  const entry = siblingEntry(callerUrl, name);
  return { path: fileURLToPath(entry.url), execArgv: entry.needsLoader ? ["--import", import.meta.resolve("tsx")] : [] };
}
