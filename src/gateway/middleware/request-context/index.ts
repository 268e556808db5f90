import type { MiddlewareHandler } from "hono";
import type { Logger } from "../../../observability/logger.js";
import { traceLogFields } from "../../../observability/tracing/spans.js";
import { detectPii } from "../../../redaction/index.js";
import { uuidv7 } from "../../../util/uuidv7.js";
import { readablePath, routePattern } from "../../request-path.js";

declare module "hono" {
  interface ContextVariableMap {
    requestId: string;
    log: Logger;
  }
}

export interface RequestContextOptions {
  logger: Logger;
}

// A caller's own id is kept for correlation only when it is short and plain; anything else could smuggle text
// into logs. It is stored with the execution too, so one that reads as PII (a card or phone number) is replaced.
const CALLER_ID = /^[A-Za-z0-9._:-]{1,128}$/;

function callerId(incoming: string | undefined): string | undefined {
  return incoming !== undefined && CALLER_ID.test(incoming) && detectPii(incoming).length === 0 ? incoming : undefined;
}

/**
 * Gives every request an id (returned as `x-request-id`), a logger bound to it and to the request's trace (trace_id,
 * span_id, when tracing is on), and one access-log line.
 */
export function requestContext(options: RequestContextOptions): MiddlewareHandler {
  return async function requestContextHandler(c, next) {
    const incoming = c.req.header("x-request-id");
    const requestId = callerId(incoming) ?? uuidv7();
    const log = options.logger.child({ requestId, ...traceLogFields() });
    c.set("requestId", requestId);
    c.set("log", log);
    c.header("x-request-id", requestId);
    const started = performance.now();
    await next();
    log.info({ method: c.req.method, route: routePattern(c), path: readablePath(c.req.path), status: c.res.status, ms: Math.round((performance.now() - started) * 100) / 100 }, "request");
  };
}
