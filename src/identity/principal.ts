/**
 * Who is calling, as every route and record sees it once the credentials checked out. Scopes are coarse on
 * purpose: one per kind of work, so that a key issued for embeddings cannot run generations or read the log.
 * `admin` is a tenant's: its keys, settings, erasure and adapters. The site's scopes span tenants: `operator` (any
 * tenant's executions, the overview and the audit log's health; what changes what every tenant is served: models,
 * policies, the bidding and adaptation learners), the auditor's `audit:read` and `audit:export` (one log of every
 * tenant's events, callers' names among them) and the monitor's `metrics:read` (every tenant's counts).
 */
export const SCOPES = ["infer", "embed", "tasks", "audit:read", "audit:export", "metrics:read", "admin", "operator"] as const;
export type Scope = (typeof SCOPES)[number];

/** An API key's subject is this and its id; no other credential's may begin with it. */
export const API_KEY_SUBJECT_PREFIX = "apikey:";

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

/** Scopes over the whole site, held only where granted: never by a tenant's `admin`. */
export const SITE_SCOPES: ReadonlySet<Scope> = new Set<Scope>(["audit:read", "audit:export", "metrics:read", "operator"]);

/**
 * `admin` holds every scope of its tenant, so one key can run a tenant's whole smoke test — but none of the site's:
 * a tenant's admin must not read other tenants' records, events or counts, nor change what every tenant is served.
 */
export function hasScope(principal: Principal, scope: Scope): boolean {
  return principal.scopes.has(scope) || (!SITE_SCOPES.has(scope) && principal.scopes.has("admin"));
}

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}
