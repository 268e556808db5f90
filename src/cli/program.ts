import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { defineApikeys } from "./definitions/apikeys.js";
import { defineAudit } from "./definitions/audit.js";
import { defineBidding } from "./definitions/bidding.js";
import { defineErase } from "./definitions/erase.js";
import { defineKeys } from "./definitions/keys.js";
import { defineMigrate } from "./definitions/migrate.js";
import { defineModels } from "./definitions/models.js";
import { definePolicy } from "./definitions/policy.js";
import { defineServe } from "./definitions/serve.js";
import { defineWorker } from "./definitions/worker.js";

const CONFIGURATION = `
Configuration: atomic.config.json in the working directory, or the file named by
--config or ATOMIC_CONFIG, overridden by ATOMIC_* environment variables
(docs/configuration.md). Each command's own help: atomic <command> --help.
Exit codes: 0 done, 1 failed or refused, 2 a mistake in the command line,
78 a bad setting.`;

/**
 * The whole command line: every command, its arguments and options, declared once here and in ./definitions, so
 * that what `--help` shows is what the parser accepts. Settings given before the commands are added are inherited
 * by every command and subcommand (commander copies them in `.command()`).
 */
export function buildProgram(): Command {
  const program = new Command("atomic")
    .description("Atomic, the sovereign clean-room AI gateway: local models, under the site's policies, with a verifiable record of every request.")
    .version(`atomic ${packageVersion()}`, "--version", "print the version and exit")
    .option("--config <file>", "the configuration file (default: ./atomic.config.json)")
    .helpOption("-h, --help", "show help for the command")
    .helpCommand("help [command]", "show help for a command")
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    // main turns commander's errors into exit codes (2 for usage) instead of commander exiting with 1.
    .exitOverride()
    .showHelpAfterError()
    .showSuggestionAfterError()
    .configureOutput({ outputError: (message, write) => write(`atomic: ${message.replace(/^error: /, "")}`) })
    .addHelpText("after", CONFIGURATION);
  defineServe(program);
  defineMigrate(program);
  defineWorker(program);
  defineModels(program);
  defineApikeys(program);
  definePolicy(program);
  defineKeys(program);
  defineAudit(program);
  defineBidding(program);
  defineErase(program);
  return program;
}

function packageVersion(): string {
  const path = fileURLToPath(new URL("../../package.json", import.meta.url));
  return (JSON.parse(readFileSync(path, "utf8")) as { version: string }).version;
}
