import type { AuditEvent } from "../audit/core/entry.js";
import { systemEvent } from "../audit/events.js";
import type { ApiKeyRecord, ApiKeyStore } from "../store/interface.js";
import { generateApiKey } from "./api-key.js";
import { NAME_PATTERN, type Scope } from "./principal.js";

export interface ApiKeyRequest {
  tenant: string;
  scopes: readonly Scope[];
  description?: string | null;
}

export interface IssuedApiKey {
  record: ApiKeyRecord;
  /** The only time the key exists in clear: hand it over, it cannot be shown again. */
  key: string;
}

/** Mints and stores a key. `first`: only while no key is active (the first-start admin key); else null. */
export async function issueApiKey(store: Pick<ApiKeyStore, "create" | "createFirst">, request: ApiKeyRequest, options: { first?: boolean } = {}): Promise<IssuedApiKey | null> {
  if (!NAME_PATTERN.test(request.tenant)) throw new RangeError(`tenant ${JSON.stringify(request.tenant)} is not a plain name (letters, digits, . _ @ : -)`);
  if (request.scopes.length === 0) throw new RangeError("an API key needs at least one scope");
  const { id, key, hash } = generateApiKey();
  const row = { id, hash, tenant: request.tenant, scopes: [...new Set(request.scopes)], description: request.description ?? null };
  const record = options.first ? await store.createFirst(row) : await store.create(row);
  return record === null ? null : { record, key };
}

/** The audit record of a key being issued or revoked: which key, for whom, with what scopes; never the key. */
export function apiKeyEvent(kind: "apikey.created" | "apikey.revoked", record: ApiKeyRecord, by: string): AuditEvent {
  return systemEvent(kind, {
    actor: { subject: by },
    detail: { keyId: record.id, tenant: record.tenant, scopes: record.scopes },
  });
}
