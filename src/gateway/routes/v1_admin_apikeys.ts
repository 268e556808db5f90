import type { Context, Hono } from "hono";
import { z } from "zod";
import { apiKeyEvent, issueApiKey } from "../../identity/issue.js";
import { SCOPES } from "../../identity/principal.js";
import type { ApiKeyRecord } from "../../store/interface.js";
import { actorOf } from "../actor.js";
import type { ApiKeyAdmin } from "../deps.js";
import { unknownToTenant } from "../errors.js";
import { requireScope } from "../middleware/auth/index.js";
import { parseParams, readBody } from "../validation.js";

export const CreateRequest = z.strictObject({
  scopes: z.array(z.enum(SCOPES)).min(1).max(SCOPES.length),
  // No control characters: `atomic apikeys list` prints one key per line, its fields tab-separated.
  description: z.string().min(1).max(500).regex(/^[^\p{Cc}]*$/u, "must not contain control characters").nullable().optional(),
});

export const KeyParams = z.object({ id: z.string().regex(/^[0-9a-f]{16}$/, "an API key id is 16 lowercase hex digits") });

/** A key as the API shows it: never its secret, nor the secret's hash. */
function keyBody(record: ApiKeyRecord) {
  return {
    object: "api_key" as const,
    id: record.id,
    tenant: record.tenant,
    scopes: record.scopes,
    description: record.description,
    created_at: record.createdAt.toISOString(),
    revoked_at: record.revokedAt?.toISOString() ?? null,
  };
}

function changer(c: Context, endpoint: string) {
  return { actor: actorOf(c), request: { id: c.get("requestId"), endpoint } };
}

/**
 * API keys of the caller's tenant, on a running gateway: issue (the key is in the answer, once), list, revoke.
 * `admin` is every scope, not every tenant: an admin manages its own tenant's keys, and another tenant's key is
 * answered as unknown (the console's `atomic apikeys` reaches every tenant). Issue and revoke commit in one
 * transaction with their audit event. A revoked key is refused by this gateway from the next request on, and by
 * every other one within auth.apiKeyCacheMs.
 */
export function registerAdminApiKeys(app: Hono, keys: ApiKeyAdmin): void {
  app.post("/v1/admin/apikeys", requireScope("admin"), async (c) => {
    const body = await readBody(c, CreateRequest);
    const by = changer(c, "POST /v1/admin/apikeys");
    const issued = (await issueApiKey(
      keys.store,
      { tenant: c.get("principal").tenant, scopes: body.scopes, description: body.description ?? null },
      { describe: (record) => apiKeyEvent("apikey.created", record, by) },
    ))!;
    // The one answer that carries a secret: no cache along the way may keep it.
    c.header("Cache-Control", "no-store");
    return c.json({ ...keyBody(issued.record), key: issued.key }, 201);
  });

  app.get("/v1/admin/apikeys", requireScope("admin"), async (c) => {
    const records = await keys.store.list(c.get("principal").tenant);
    return c.json({ object: "list", data: records.map(keyBody) });
  });

  app.post("/v1/admin/apikeys/:id/revoke", requireScope("admin"), async (c) => {
    const { id } = parseParams(KeyParams, { id: c.req.param("id") });
    const by = changer(c, "POST /v1/admin/apikeys/:id/revoke");
    const result = await keys.store.revoke(id, {
      tenant: c.get("principal").tenant,
      describe: (record) => apiKeyEvent("apikey.revoked", record, by),
    });
    if (result === null) throw unknownToTenant("api_key_not_found", `no API key ${id} in this tenant`, "id");
    keys.forget(id);
    return c.json(keyBody(result.record));
  });
}
