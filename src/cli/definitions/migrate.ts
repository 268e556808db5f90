import type { Command } from "commander";
import { run } from "../action.js";
import { leafCommand } from "../define.js";

export function defineMigrate(program: Command): void {
  leafCommand(program, "migrate", "apply pending database migrations and exit (serve also applies them at start)")
    .action(run(async () => (await import("../commands/migrate.js")).migrateCommand));
}
