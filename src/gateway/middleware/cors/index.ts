import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";

/**
 * CORS for exactly the configured browser origins. Credentials travel in the Authorization header, never in
 * cookies, so credentials mode stays off; the gateway's own headers are exposed so a page can read the execution
 * id and request id of an answer. A preflight is answered here, before authentication, as browsers send it
 * without credentials.
 */
export function corsFor(origins: readonly string[]): MiddlewareHandler {
  return cors({
    origin: [...origins],
    allowMethods: ["GET", "HEAD", "POST"],
    allowHeaders: ["authorization", "content-type", "x-request-id", "x-atomic-data-classification", "x-atomic-purpose"],
    exposeHeaders: ["x-request-id", "x-atomic-execution-id", "x-atomic-decision-id", "x-atomic-routing", "retry-after", "www-authenticate"],
    credentials: false,
    maxAge: 600,
  });
}
