#!/usr/bin/env node
// npm test: the typecheck and vitest side by side, failing when either fails; arguments go to vitest.
// Side by side because tsc runs on one core for about half a minute: before vitest it was that much of the run's
// wall time, while beside it, it mostly takes the core the global setup leaves idle (installs found in place,
// servers starting). Its errors print as soon as it ends, long before vitest's summary.
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** A command of node_modules/.bin, run from the repository root as npm does; resolves with its exit status. */
function run(command, args) {
  return new Promise((resolve) => {
    const child = spawn(join(root, "node_modules", ".bin", command), args, { cwd: root, stdio: "inherit" });
    child.once("error", (error) => {
      process.stderr.write(`${command}: ${error.message}\n`);
      resolve(1);
    });
    child.once("exit", (code, signal) => resolve(code ?? (signal === null ? 0 : 1)));
  });
}

const [typecheck, tests] = await Promise.all([
  run("tsc", ["-p", "tsconfig.json", "--noEmit"]).then((code) => {
    if (code !== 0) process.stderr.write(`\ntypecheck failed (tsc exit ${code}): see its errors above\n`);
    return code;
  }),
  run("vitest", ["run", ...process.argv.slice(2)]),
]);
process.exit(typecheck !== 0 ? typecheck : tests);
