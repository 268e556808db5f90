/**
 * Who is calling, as every route and record sees it once the credentials checked out. Scopes are coarse on
 * purpose: one per kind of work, so that a key issued for embeddings cannot run generations or read the log.
 */
export const SCOPES = ["infer", "embed", "tasks", "audit:read", "audit:export", "metrics:read", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

/** Tenant and subject names: safe in logs, SQL and audit entries as they are. */
export const NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9._@:-]{0,127}$/;

export interface Principal {
  kind: "api_key" | "jwt";
  /** The key's id or the token's `sub`. */
  subject: string;
  tenant: string;
  scopes: ReadonlySet<Scope>;
  /** SHA-256 (hex, first 32) of the key id or the token's `jti` (else its bytes): names the credential in the audit log without revealing it. */
  tokenIdHash: string;
}

/** `admin` holds every other scope: one key can run a site's whole smoke test. */
export function hasScope(principal: Principal, scope: Scope): boolean {
  return principal.scopes.has(scope) || principal.scopes.has("admin");
}

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}
