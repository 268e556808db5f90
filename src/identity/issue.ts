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

export interface IssueOptions {
  /** Only while no key is active (the first-start admin key); else null. */
  first?: boolean;
  /** The audit event of the issue, queued in the transaction that stores the key (not with `first`). */
  describe?: (record: ApiKeyRecord) => AuditEvent;
}

/** Mints and stores a key; null only for a `first` key when an active key exists. */
export async function issueApiKey(store: Pick<ApiKeyStore, "create" | "createFirst">, request: ApiKeyRequest, options: IssueOptions = {}): Promise<IssuedApiKey | null> {
  if (!NAME_PATTERN.test(request.tenant)) throw new RangeError(`tenant ${JSON.stringify(request.tenant)} is not a plain name (letters, digits, . _ @ : -)`);
  if (request.scopes.length === 0) throw new RangeError("an API key needs at least one scope");
  const { id, key, hash } = generateApiKey();
  const row = { id, hash, tenant: request.tenant, scopes: [...new Set(request.scopes)], description: request.description ?? null };
  const record = options.first ? await store.createFirst(row) : await store.create(row, options.describe);
  return record === null ? null : { record, key };
}

/** Who changed a key: an operator at the console (a name), or an authenticated caller of the admin API. */
export type ApiKeyChanger = string | { actor: NonNullable<AuditEvent["actor"]>; request: NonNullable<AuditEvent["request"]> };

/** The audit record of a key being issued or revoked: which key, for whom, with what scopes; never the key. */
export function apiKeyEvent(kind: "apikey.created" | "apikey.revoked", record: ApiKeyRecord, by: ApiKeyChanger): AuditEvent {
  return systemEvent(kind, {
    ...(typeof by === "string" ? { actor: { subject: by } } : by),
    detail: { keyId: record.id, tenant: record.tenant, scopes: record.scopes },
  });
}
