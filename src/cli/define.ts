import { Option, type Command } from "commander";

/**
 * A command that runs something (not a group of commands), under `parent`, with its description. It also takes
 * `--config FILE` after its own name: commander reads the top-level --config anywhere on the line only until the
 * first option the top level does not know, so `atomic worker --dev-server --config FILE` needs it here. Hidden:
 * the help shows it once, among the global options.
 */
export function leafCommand(parent: Command, nameAndArguments: string, description: string): Command {
  return parent.command(nameAndArguments).description(description).addOption(new Option("--config <file>").hideHelp());
}
