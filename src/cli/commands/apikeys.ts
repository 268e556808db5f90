import { parseArgs } from "node:util";
import { openDatabase } from "../../bootstrap/database.js";
import { apiKeyEvent, issueApiKey } from "../../identity/issue.js";
import { isScope, SCOPES, type Scope } from "../../identity/principal.js";
import type { CommandContext } from "../context.js";
import { UsageError } from "../usage.js";
import { consoleOperator } from "../operator.js";

const USAGE = `usage: atomic apikeys create --tenant T --scopes S[,S...] [--description TEXT]
       atomic apikeys list
       atomic apikeys revoke ID
scopes: ${SCOPES.join(", ")}`;

/**
 * `atomic apikeys create|list|revoke`: service keys for machine clients, each bound to a tenant and scopes. The key
 * is printed once and stored only as a hash; issuing and revoking are audited, in the transaction that makes the
 * change. The console reaches every tenant. While a gateway runs the embedded PostgreSQL, this joins that server;
 * a revocation reaches running gateways within auth.apiKeyCacheMs.
 */
export async function apikeysCommand(context: CommandContext, args: string[]): Promise<number> {
  const [action, ...rest] = args;
  if (action !== "create" && action !== "list" && action !== "revoke") throw new UsageError(USAGE);
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { tenant: { type: "string" }, scopes: { type: "string" }, description: { type: "string" } },
  });
  let scopes: Scope[] = [];
  if (action === "create") {
    if (!values.tenant || !values.scopes || positionals.length > 0) throw new UsageError(USAGE);
    const named = values.scopes.split(",").map((scope) => scope.trim());
    const unknown = named.filter((scope) => !isScope(scope));
    if (unknown.length > 0 || named.length === 0) throw new UsageError(`unknown scope ${unknown.join(", ")}\n${USAGE}`);
    scopes = named as Scope[];
  }
  if (action === "revoke" && positionals.length !== 1) throw new UsageError(USAGE);

  const database = await openDatabase(context.config, context.logger, { joinRunning: true });
  try {
    const keys = database.stores.apiKeys;
    const by = consoleOperator();
    switch (action) {
      case "create": {
        let issued;
        try {
          issued = await issueApiKey(keys, { tenant: values.tenant!, scopes, description: values.description ?? null }, {
            describe: (record) => apiKeyEvent("apikey.created", record, by),
          });
        } catch (error) {
          if (error instanceof RangeError) throw new UsageError(error.message);
          throw error;
        }
        context.out(issued!.key);
        context.err(`key ${issued!.record.id} for tenant ${issued!.record.tenant} with scopes ${issued!.record.scopes.join(",")}; it is shown only this once`);
        return 0;
      }
      case "list":
        for (const key of await keys.list()) {
          const state = key.revokedAt === null ? "active" : `revoked ${key.revokedAt.toISOString()}`;
          context.out([key.id, key.tenant, key.scopes.join(","), state, key.createdAt.toISOString(), key.description ?? ""].join("\t"));
        }
        return 0;
      case "revoke": {
        const id = positionals[0]!;
        const revoked = await keys.revoke(id, { describe: (record) => apiKeyEvent("apikey.revoked", record, by) });
        if (revoked === null) {
          context.err(`no API key ${id}`);
          return 1;
        }
        context.out(revoked.revoked ? `revoked ${id}` : `${id} was already revoked`);
        return 0;
      }
    }
  } finally {
    await database.close();
  }
}
