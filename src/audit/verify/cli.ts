#!/usr/bin/env node
/**
 * Entry point of audit/verify.mjs, the offline verifier auditors run with plain Node (≥ 20): an export directory,
 * a receipt, a consistency proof, or a key's identity (cli-main.ts USAGE).
 * Bundled by esbuild with everything it imports; it must import only node built-ins and src/audit/{core,verify}.
 */
import { isMainThread } from "node:worker_threads";
import { runVerifierCli } from "./cli-main.js";

// The bundle is also what the leaf-checking worker thread loads (verify-export.ts): only the main thread is the CLI.
if (isMainThread) {
  const result = await runVerifierCli(process.argv.slice(2));
  if (result.stdout !== undefined) process.stdout.write(`${result.stdout}\n`);
  if (result.stderr !== undefined) process.stderr.write(`${result.stderr}\n`);
  process.exitCode = result.exitCode;
}
