import { InvalidArgumentError, type Command } from "commander";
import { isScope, SCOPES } from "../../identity/principal.js";
import { run } from "../action.js";
import { leafCommand } from "../define.js";
import { commaList } from "../values.js";

/** `--scopes a,b`: each a scope the gateway knows. */
function scopes(value: string): string[] {
  const named = commaList(value);
  const unknown = named.filter((scope) => !isScope(scope));
  if (unknown.length > 0) throw new InvalidArgumentError(`unknown scope ${unknown.join(", ")} (known: ${SCOPES.join(", ")})`);
  return named;
}

export function defineApikeys(program: Command): void {
  const apikeys = program.command("apikeys").description("service API keys for machine clients, each bound to a tenant and scopes")
    .addHelpText("after", `
Issuing and revoking are audited. The console reaches every tenant. Beside a
running gateway on the embedded PostgreSQL, this joins its server; a revocation
reaches running gateways within auth.apiKeyCacheMs.`);
  const load = async () => import("../commands/apikeys.js");
  leafCommand(apikeys, "create", "issue a key: printed once, stored only as a hash")
    .requiredOption("--tenant <t>", "the tenant it acts for")
    .requiredOption("--scopes <list>", `what it may do, comma-separated: ${SCOPES.join(", ")}`, scopes)
    .option("--description <text>", "what it is for, shown by apikeys list")
    .action(run(async () => (await load()).createApiKeyCommand));
  leafCommand(apikeys, "list", "list keys (never the keys themselves): id, tenant, scopes, state, created, description")
    .action(run(async () => (await load()).listApiKeysCommand));
  leafCommand(apikeys, "revoke", "revoke a key")
    .argument("<id>", "the key's id (atomic apikeys list)")
    .action(run(async () => (await load()).revokeApiKeyCommand));
}
