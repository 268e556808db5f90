import { parseArgs } from "node:util";
import { AuditQueueWriter } from "../../audit/store/queue.js";
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
 * is printed once and stored only as a hash; issuing and revoking are audited. A revocation reaches running
 * gateways within auth.apiKeyCacheMs.
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

  const database = await openDatabase(context.config, context.logger);
  try {
    const keys = database.stores.apiKeys;
    const audit = new AuditQueueWriter(database.stores.pool);
    switch (action) {
      case "create": {
        let issued;
        try {
          issued = await issueApiKey(keys, { tenant: values.tenant!, scopes, description: values.description ?? null });
        } catch (error) {
          if (error instanceof RangeError) throw new UsageError(error.message);
          throw error;
        }
        await audit.enqueue(apiKeyEvent("apikey.created", issued!.record, consoleOperator()));
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
        const revoked = await keys.revoke(id);
        if (revoked === null) {
          context.err(`no API key ${id}`);
          return 1;
        }
        await audit.enqueue(apiKeyEvent("apikey.revoked", revoked, consoleOperator()));
        context.out(`revoked ${id}`);
        return 0;
      }
    }
  } finally {
    await database.close();
  }
}
