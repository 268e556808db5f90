#!/usr/bin/env node
import { CommanderError } from "commander";
import { ConfigError } from "../config/load.js";
import { OperatorError } from "../util/operator-error.js";
import { buildProgram } from "./program.js";

/**
 * `atomic`: parses the command line (./program.ts) and runs the command. Exit codes: the command's own (0 done,
 * 1 failed or refused); 2 for a mistake in the command line, said in one line with the usage; 78 for a bad setting;
 * 1 for an environment problem the operator must fix (OperatorError), said in one line. Only an unexpected failure
 * prints a stack.
 */
buildProgram().parseAsync(process.argv).then(
  // Exit even with handles left open (a database pool a command forgot): a one-shot command is done.
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    // commander has already printed its message and the usage (help and --version end here too, with exit code 0).
    if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : 2);
    if (error instanceof ConfigError || error instanceof OperatorError) {
      process.stderr.write(`atomic: ${error.message}\n`);
      process.exit(error instanceof ConfigError ? 78 : 1);
    }
    process.stderr.write(`atomic: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(1);
  },
);
