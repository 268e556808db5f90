import { chmodSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Config } from "../config/schema.js";
import type { ApiKeyAdmin } from "../gateway/deps.js";
import type { AuthenticateOptions, Refusal } from "../gateway/middleware/auth/index.js";
import { RefusalAggregator } from "../gateway/refusals/aggregator.js";
import { readablePath } from "../gateway/request-path.js";
import { Authenticator } from "../identity/authenticator.js";
import { apiKeyEvent, issueApiKey } from "../identity/issue.js";
import { JwtVerifier, loadJwksFile } from "../identity/jwt.js";
import { SITE_SCOPES } from "../identity/principal.js";
import type { Logger } from "../observability/logger.js";
import type { ApiKeyStore } from "../store/interface.js";
import type { RunningAudit } from "./audit.js";

export const ADMIN_KEY_FILE = "admin-api-key";

/** Sources whose repeated refusals one window tracks (see RefusalAggregator): a few MB at most. */
const MAX_REFUSAL_SOURCES = 10_000;

export interface RunningIdentity {
  access: AuthenticateOptions;
  /** For the admin routes: the keys, and the authenticator's cache that a revocation clears. */
  apiKeys: ApiKeyAdmin;
  /** Writes the refusals counted but not yet recorded; call once the server takes no more requests. */
  close(): Promise<void>;
}

/**
 * Who may call the gateway: API keys from the database, JWTs from the configured provider's local JWKS. A fresh
 * install with neither gets one admin key for tenant "default", written 0600 into the data directory, so the
 * first command in the README leads to a gateway someone can call, and no one else can. Every refusal is logged;
 * the audit log gets each one, or for a flood one event per source and window with a count.
 */
export async function startIdentity(config: Config, apiKeys: ApiKeyStore, audit: Pick<RunningAudit, "record">, logger: Logger): Promise<RunningIdentity> {
  const jwtConfig = config.auth.jwt;
  const jwt = jwtConfig === undefined ? undefined : new JwtVerifier({ ...jwtConfig, jwks: loadJwksFile(resolve(jwtConfig.jwksFile)) });
  if (jwt === undefined && config.auth.bootstrapAdminKey) await issueFirstAdminKey(config, apiKeys, audit, logger);
  const log = logger.child({ component: "access" });
  const refusals = new RefusalAggregator({ windowMs: config.audit.refusalWindowMs, maxSources: MAX_REFUSAL_SOURCES, record: audit.record });
  const authenticator = new Authenticator({ apiKeys, ...(jwt === undefined ? {} : { jwt }), keyCacheMs: config.auth.apiKeyCacheMs });
  return {
    apiKeys: { store: apiKeys, forget: (id) => authenticator.forget(id) },
    access: {
      authenticator,
      recordRefusal: async (refusal) => {
        log.warn(refusalLogFields(refusal), "request refused");
        await refusals.refused(refusal);
      },
    },
    close: () => refusals.close(),
  };
}

async function issueFirstAdminKey(config: Config, apiKeys: ApiKeyStore, audit: Pick<RunningAudit, "record">, logger: Logger): Promise<void> {
  const issued = await issueApiKey(apiKeys, { tenant: "default", scopes: ["admin", ...SITE_SCOPES], description: "first-start admin key" }, { first: true });
  if (issued === null) return;
  const path = join(resolve(config.dataDir), ADMIN_KEY_FILE);
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${issued.key}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
  await audit.record(apiKeyEvent("apikey.created", issued.record, "atomic-first-start"));
  logger.warn({ keyId: issued.record.id, file: path }, "no API key existed: issued an admin key for tenant \"default\" into this file (0600); issue narrower keys with `atomic apikeys create` and revoke this one");
}

function refusalLogFields(refusal: Refusal): Record<string, unknown> {
  return {
    status: refusal.status,
    code: refusal.code,
    reason: refusal.reason,
    method: refusal.method,
    route: refusal.route,
    // Decoded, so that the log's PII filter sees what a caller percent-encoded into it.
    path: readablePath(refusal.path),
    ...(refusal.principal === undefined ? {} : { subject: refusal.principal.subject, tenant: refusal.principal.tenant }),
    ...(refusal.sourceAddress === undefined ? {} : { sourceAddress: refusal.sourceAddress }),
  };
}
