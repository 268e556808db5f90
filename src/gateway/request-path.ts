import type { Context } from "hono";
import { matchedRoutes } from "hono/route";

/** What records name when no route serves the path: the path itself is the caller's text and is never kept. */
export const UNMATCHED_ROUTE = "(unmatched)";

/**
 * The pattern of the route that serves (or, under a middleware that refuses first, would serve) this request:
 * `/v1/executions/:id`, never the path the caller wrote, which may carry any text. Middleware (`app.use`) is
 * registered for every method and is not a route.
 */
export function routePattern(c: Context): string {
  return matchedRoutes(c).findLast((route) => route.method !== "ALL")?.path ?? UNMATCHED_ROUTE;
}

const PERCENT_ESCAPES = /(?:%[0-9A-Fa-f]{2})+/g;
const ASCII_ESCAPE = /%[0-7][0-9A-Fa-f]/g;

/**
 * The path as a reader would see it, for log lines: percent-decoded (Hono decodes only what URL routing needs,
 * and leaves `%40` for `@`), so that the log's PII filter sees the address a caller hid in it. A run of escapes
 * that is not UTF-8 keeps its other bytes escaped but still gives up its ASCII characters.
 */
export function readablePath(path: string): string {
  return path.replace(PERCENT_ESCAPES, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run.replace(ASCII_ESCAPE, (escape) => String.fromCharCode(Number.parseInt(escape.slice(1), 16)));
    }
  });
}
