import type { Command } from "commander";
import { loadConfig } from "../config/load.js";
import type { CommandContext } from "./context.js";
import { UsageError } from "./usage.js";

/** What a command module exports: it gets the context, the parsed options and the command's arguments, in order. */
export type CommandRun<O> = (context: CommandContext, options: O, ...operands: string[]) => Promise<number> | number;

export interface RunOptions {
  /** Long-running commands (serve, worker) log as configured; one-shot commands only what needs attention. */
  logs?: "configured" | "warnings";
}

/**
 * A commander action that loads its command module only when it runs: `serve` and `worker` pull in llama.cpp and
 * Temporal (~2 s), which `atomic --help` or `atomic audit verify` on an auditor's laptop should not pay for. The
 * configuration is read only then too, so that help and usage errors need no valid configuration.
 *
 * The command's exit code becomes process.exitCode (main exits with it). A UsageError from the command is reported
 * as commander reports its own: one line and the command's help, exit code 2.
 */
export function run<O>(load: () => Promise<CommandRun<O>>, { logs = "warnings" }: RunOptions = {}) {
  return async (...received: unknown[]): Promise<void> => {
    // commander passes the declared arguments, then the options, then the command itself.
    const command = received.at(-1) as Command;
    const operands = received.slice(0, -2) as string[];
    const config = loadConfig({ file: configFile(command) });
    const { createLogger } = await import("../observability/logger.js");
    const context: CommandContext = {
      config,
      logger: createLogger({ level: logs === "configured" ? config.log.level : "warn" }),
      out: (line) => process.stdout.write(`${line}\n`),
      err: (line) => process.stderr.write(`${line}\n`),
    };
    try {
      process.exitCode = await (await load())(context, command.opts() as O, ...operands);
    } catch (error) {
      if (error instanceof UsageError) command.error(error.message, { exitCode: 2, code: "atomic.usage" });
      throw error;
    }
  };
}

/** `--config FILE`, given after the command (nearest wins) or before it. */
function configFile(command: Command): string | undefined {
  for (let at: Command | null = command; at !== null; at = at.parent) {
    const file: unknown = at.getOptionValue("config");
    if (typeof file === "string") return file;
  }
  return undefined;
}
