#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ConfigError, loadConfig } from "../config/load.js";
import { createLogger } from "../observability/logger.js";
import type { CommandContext } from "./context.js";
import { UsageError } from "./usage.js";
import { OperatorError } from "../util/operator-error.js";

type Command = (context: CommandContext, args: string[]) => Promise<number>;

/**
 * Each command's module is loaded only when it runs: `serve` and `worker` pull in llama.cpp and Temporal (~2 s),
 * which `atomic audit verify` on an auditor's laptop or `atomic --version` should not pay for.
 */
const COMMANDS = new Map<string, () => Promise<Command>>([
  ["serve", async () => (await import("./commands/serve.js")).serveCommand],
  ["migrate", async () => (await import("./commands/migrate.js")).migrateCommand],
  ["models", async () => (await import("./commands/models.js")).modelsCommand],
  ["keys", async () => (await import("./commands/keys.js")).keysCommand],
  ["apikeys", async () => (await import("./commands/apikeys.js")).apikeysCommand],
  ["policy", async () => (await import("./commands/policy.js")).policyCommand],
  ["worker", async () => (await import("./commands/worker.js")).workerCommand],
  ["audit", async () => (await import("./commands/audit.js")).auditCommand],
  ["erase", async () => (await import("./commands/erase.js")).eraseCommand],
  ["bidding", async () => (await import("./commands/bidding.js")).biddingCommand],
]);

const HELP = `atomic — sovereign clean-room AI gateway

usage: atomic [--config FILE] <command>    atomic --version

commands:
  serve                      run the gateway (embedded PostgreSQL unless DATABASE_URL is set)
  migrate                    apply database migrations and exit
  worker                     run Temporal workers: orchestration and this host's inference
                             [--temporal HOST:PORT] [--namespace NS] [--host-id ID] [--models a,b] [--dev-server]
  models add <file.gguf>     check, hash and pin a model in the manifest
  models verify              re-hash every pinned model and check its header
  models list                list pinned models
  models add-adapter FILE --base MODEL [--task CLASS] [--id ID] [--scale S] [--candidate]
                             check a LoRA adapter against its base model, hash and pin it (promoted unless --candidate)
  models adapters            list pinned adapters
  models adapter promote ID | rollback --base MODEL [--task CLASS] | fit --base MODEL --examples FILE [--task CLASS]
                             put an adapter in service, undo the last promotion, fit one from rated examples
  apikeys create --tenant T --scopes S,...   issue a service API key (printed once) [--description TEXT]
  apikeys list | revoke ID   list keys (never the keys themselves) or revoke one
  policy check|test [DIR]    validate the policy set / run its test cases (default ./policies)
  keys generate              create the audit log's Ed25519 signing key and its public JWK
  keys rotate                retire the signing key for a new one and log the handover (stop the gateway first)
  audit export --out DIR     export the audit log [--from I|TIME] [--to I|TIME] [--previous-size N]
  audit verify DIR --key F   verify an export offline [--key F ...] [--previous CHECKPOINT-FILE] [--require-previous]
  audit verify-receipt FILE --key F       verify a receipt offline [--key F ...] [--checkpoint CHECKPOINT-FILE]
  audit verify-consistency FILE --key F   verify a consistency proof offline [--previous CHECKPOINT-FILE] [--require-previous]
  audit key FILE             print a public key's id and fingerprint, to compare out of band
  bidding train FILE         pre-train the bidding learner on an outcome table [--from-executions: on judged executions]
  erase --tenant T           erase stored execution content [--subject S] [--execution ID] [--before DATE]
                             [--dry-run]; the audit log keeps its hashes and records the erasure

configuration: atomic.config.json (or --config / ATOMIC_CONFIG), overridden by ATOMIC_* environment variables
`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: false,
    options: { config: { type: "string" }, help: { type: "boolean", short: "h" }, version: { type: "boolean" } },
  });
  const [command] = positionals;
  if (!command) {
    if (values.version) process.stdout.write(`atomic ${packageVersion()}\n`);
    else process.stdout.write(HELP);
    return values.version || values.help ? 0 : 2;
  }
  const help = commandHelp(command);
  if (help === null) throw new UsageError(`unknown command ${command}\n\n${HELP}`);
  // --help after the command is the command's; before it, everyone's.
  const afterCommand = argv.slice(commandIndex(argv, command) + 1);
  if (afterCommand.includes("--help") || afterCommand.includes("-h")) {
    process.stdout.write(help);
    return 0;
  }
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const config = loadConfig({ file: typeof values.config === "string" ? values.config : undefined });
  const context: CommandContext = {
    config,
    // Long-running commands log as configured; one-shot commands only what needs attention.
    logger: createLogger({ level: command === "serve" || command === "worker" ? config.log.level : "warn" }),
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  };
  // Everything after the command belongs to it, flags alone included (`worker --dev-server`), but the global
  // --config and its value, which were read above.
  const commandArgs = afterCommand.filter((a, i, all) => a !== "--config" && all[i - 1] !== "--config");
  const load = COMMANDS.get(command);
  if (load === undefined) throw new UsageError(`unknown command ${command}\n\n${HELP}`);
  return (await load())(context, commandArgs);
}

/** A command's lines of the help (its entry and the indented lines that continue it), or null for no such command. */
function commandHelp(command: string): string | null {
  const lines = HELP.split("\n");
  const picked: string[] = [];
  let inEntry = false;
  for (const line of lines) {
    if (/^ {2}\S/.test(line)) inEntry = line.slice(2).split(" ")[0] === command;
    else if (!/^ {3,}\S/.test(line)) inEntry = false;
    if (inEntry) picked.push(line);
  }
  return picked.length === 0 ? null : `usage: atomic [--config FILE] <command>\n\n${picked.join("\n")}\n`;
}

/** Where the command word is: the first argument equal to it that is not the value of --config. */
function commandIndex(argv: string[], command: string): number {
  return argv.findIndex((arg, i) => arg === command && argv[i - 1] !== "--config");
}

function packageVersion(): string {
  const path = fileURLToPath(new URL("../../package.json", import.meta.url));
  return (JSON.parse(readFileSync(path, "utf8")) as { version: string }).version;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ConfigError || error instanceof UsageError) {
      process.stderr.write(`atomic: ${error.message}\n`);
      process.exit(error instanceof UsageError ? 2 : 78);
    }
    if (error instanceof OperatorError) {
      process.stderr.write(`atomic: ${error.message}\n`);
      process.exit(1);
    }
    process.stderr.write(`atomic: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(1);
  },
);
