import { join, relative, resolve } from "node:path";
import { inject } from "vitest";
import "./provided-context.js";

const repoRoot = resolve(import.meta.dirname, "..", "..");

/**
 * A TypeScript file of test/ or scripts/ (a path from the repository's root, or absolute) as a test starts it: its
 * copy compiled in the run's build (support/test-build.ts), for plain node. Through tsx each start transformed the
 * script's imports, src/ among them: about 1.3 s of CPU more per process.
 */
export function compiledScript(script: string): string {
  return join(inject("buildRoot"), relative(repoRoot, resolve(repoRoot, script))).replace(/\.ts$/, ".js");
}
