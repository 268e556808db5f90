import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context, MiddlewareHandler, Next } from "hono";
import type { Authenticator } from "../../../identity/authenticator.js";
import { AuthenticationError } from "../../../identity/errors.js";
import { hasScope, type Principal, type Scope } from "../../../identity/principal.js";
import { inSpan } from "../../../observability/tracing/spans.js";
import { ApiError, UnknownToTenantError } from "../../errors.js";
import { routePattern } from "../../request-path.js";

declare module "hono" {
  interface ContextVariableMap {
    principal: Principal;
  }
}

/** One refused request, as the log and the audit trail record it. */
export interface Refusal {
  requestId: string;
  method: string;
  /** The route pattern (`/v1/executions/:id`, or UNMATCHED_ROUTE): what the audit trail keeps. */
  route: string;
  /** The path as the caller wrote it: for the log line only, which passes the PII filter. */
  path: string;
  /**
   * 401: who it was is unknown; 403: known, but not allowed; 404: asked for what its tenant does not hold (perhaps
   * another tenant's); 429: allowed, but over its limits.
   */
  status: 401 | 403 | 404 | 429;
  code: string;
  /** Why, for operators: never sent to the client. */
  reason: string;
  principal?: Principal;
  sourceAddress?: string;
}

export interface AuthenticateOptions {
  authenticator: Pick<Authenticator, "authenticate">;
  /** Logs and audits a refusal (a flood of them as one event with a count); the response waits for it. */
  recordRefusal(refusal: Refusal): Promise<void>;
}

const CHALLENGE = 'Bearer realm="atomic"';

/**
 * Marks on the middleware below, so that the OpenAPI document (src/gateway/openapi) reads who may call a route from
 * the handlers the route really runs, rather than from a second, hand-kept list.
 */
export const AUTHENTICATES = Symbol("atomic.authenticates");
export const REQUIRED_SCOPES = Symbol("atomic.requiredScopes");

/**
 * Every request under it must carry a valid API key or JWT; the principal is then on the context for routes and
 * records. Refusals — bad credentials here, missing scopes (403) and exhausted quotas (429) from the middleware
 * and routes below — are recorded in one place on their way out.
 */
export function authenticate(options: AuthenticateOptions): MiddlewareHandler {
  return Object.assign(async function authenticateHandler(c: Context, next: Next) {
    let principal: Principal;
    try {
      principal = await inSpan("auth", () => options.authenticator.authenticate(c.req.header("authorization")));
    } catch (error) {
      if (!(error instanceof AuthenticationError)) throw error;
      const missing = error.code === "credentials_missing";
      const code = missing ? "authentication_required" : "invalid_credentials";
      await options.recordRefusal(refusal(c, 401, code, error.reason));
      throw new ApiError(401, "authentication_error", code,
        missing ? "this endpoint requires `Authorization: Bearer <API key or JWT>`" : "the credentials were not accepted",
        null, { "WWW-Authenticate": missing ? CHALLENGE : `${CHALLENGE}, error="invalid_token"` });
    }
    c.set("principal", principal);
    await next();
    const { error } = c;
    if (error instanceof UnknownToTenantError || (error instanceof ApiError && (error.status === 403 || error.status === 429))) {
      await options.recordRefusal(refusal(c, error.status as Refusal["status"], error.code, error.message, principal));
    }
  }, { [AUTHENTICATES]: true });
}

/** The request needs at least one of `scopes` (admin holds them all). */
export function requireScope(...scopes: Scope[]): MiddlewareHandler {
  return Object.assign(async function requireScopeHandler(c: Context, next: Next) {
    const principal = c.get("principal");
    if (!scopes.some((scope) => hasScope(principal, scope))) {
      throw new ApiError(403, "permission_error", "insufficient_scope", `this endpoint requires the scope ${scopes.join(" or ")}`);
    }
    await next();
  }, { [REQUIRED_SCOPES]: scopes as readonly Scope[] });
}

function refusal(c: Context, status: Refusal["status"], code: string, reason: string, principal?: Principal): Refusal {
  const sourceAddress = remoteAddress(c);
  return {
    requestId: c.get("requestId"),
    method: c.req.method,
    route: routePattern(c),
    path: c.req.path,
    status,
    code,
    reason,
    ...(principal === undefined ? {} : { principal }),
    ...(sourceAddress === undefined ? {} : { sourceAddress }),
  };
}

/**
 * The peer's address when served by @hono/node-server; absent for in-process requests (app.request), which carry
 * no connection: asked first, rather than through getConnInfo's TypeError (its stack trace cost ~60 µs a request).
 */
export function remoteAddress(c: Context): string | undefined {
  const env = c.env as { incoming?: unknown; server?: { incoming?: unknown } } | undefined;
  if (env?.server?.incoming === undefined && env?.incoming === undefined) return undefined;
  return getConnInfo(c).remote.address;
}
