import { openDatabase, type OpenDatabase } from "../../bootstrap/database.js";
import { apiKeyEvent, issueApiKey } from "../../identity/issue.js";
import type { Scope } from "../../identity/principal.js";
import type { CommandContext } from "../context.js";
import { UsageError } from "../usage.js";
import { consoleOperator } from "../operator.js";

/*
 * `atomic apikeys create|list|revoke`: service keys for machine clients, each bound to a tenant and scopes. The key
 * is printed once and stored only as a hash; issuing and revoking are audited, in the transaction that makes the
 * change. The console reaches every tenant. While a gateway runs the embedded PostgreSQL, this joins that server;
 * a revocation reaches running gateways within auth.apiKeyCacheMs.
 */

/** Runs `use` on the database (a running gateway's embedded server joined, not started again), then closes it. */
async function withDatabase(context: CommandContext, use: (database: OpenDatabase) => Promise<number>): Promise<number> {
  const database = await openDatabase(context.config, context.logger, { joinRunning: true });
  try {
    return await use(database);
  } finally {
    await database.close();
  }
}

/** The options of `atomic apikeys create`; the scopes were checked as the command line was read. */
export interface CreateApiKeyOptions {
  tenant: string;
  scopes: Scope[];
  description?: string;
}

export async function createApiKeyCommand(context: CommandContext, options: CreateApiKeyOptions): Promise<number> {
  return withDatabase(context, async (database) => {
    let issued;
    try {
      issued = await issueApiKey(database.stores.apiKeys, { tenant: options.tenant, scopes: options.scopes, description: options.description ?? null }, {
        describe: (record) => apiKeyEvent("apikey.created", record, consoleOperator()),
      });
    } catch (error) {
      if (error instanceof RangeError) throw new UsageError(error.message);
      throw error;
    }
    // Null only for a tenant's first key (options.first), which the gateway issues, not the console.
    const { key, record } = issued!;
    context.out(key);
    context.err(`key ${record.id} for tenant ${record.tenant} with scopes ${record.scopes.join(",")}; it is shown only this once`);
    return 0;
  });
}

export async function listApiKeysCommand(context: CommandContext): Promise<number> {
  return withDatabase(context, async (database) => {
    for (const key of await database.stores.apiKeys.list()) {
      const state = key.revokedAt === null ? "active" : `revoked ${key.revokedAt.toISOString()}`;
      context.out([key.id, key.tenant, key.scopes.join(","), state, key.createdAt.toISOString(), key.description ?? ""].join("\t"));
    }
    return 0;
  });
}

export async function revokeApiKeyCommand(context: CommandContext, _options: unknown, id: string): Promise<number> {
  return withDatabase(context, async (database) => {
    const revoked = await database.stores.apiKeys.revoke(id, { describe: (record) => apiKeyEvent("apikey.revoked", record, consoleOperator()) });
    if (revoked === null) {
      context.err(`no API key ${id}`);
      return 1;
    }
    context.out(revoked.revoked ? `revoked ${id}` : `${id} was already revoked`);
    return 0;
  });
}
