import type { Command } from "commander";
import { run } from "../action.js";
import { leafCommand } from "../define.js";

export function defineServe(program: Command): void {
  leafCommand(program, "serve", "run the gateway until SIGINT or SIGTERM (embedded PostgreSQL unless DATABASE_URL is set)")
    .action(run(async () => (await import("../commands/serve.js")).serveCommand, { logs: "configured" }));
}
