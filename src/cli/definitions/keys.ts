import type { Command } from "commander";
import { run } from "../action.js";
import { leafCommand } from "../define.js";

export function defineKeys(program: Command): void {
  const keys = program.command("keys").description("the audit log's Ed25519 signing key");
  const load = async () => import("../commands/keys.js");
  leafCommand(keys, "generate", "create the signing key (mode 0600) and its public JWK for auditors")
    .action(run(async () => (await load()).generateKeyCommand));
  leafCommand(keys, "rotate", "retire the signing key for a new one and log the handover (stop the gateway first: the embedded database allows one user)")
    .action(run(async () => (await load()).rotateKeyCommand));
}
