import type { IncomingMessage } from "node:http";
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit as streamedBodyLimit } from "hono/body-limit";

export interface BodyLimitOptions {
  maxSize: number;
  /** Answers (or throws for) a body over the limit. */
  onError: (c: Context) => Response | Promise<Response>;
}

/**
 * Refuses a request body over `maxSize` bytes before anything reads it. Over HTTP/1.1 (what @hono/node-server
 * serves here) a body with a Content-Length is judged by it, since Node's parser holds the body to exactly that
 * many bytes, and a request with neither Content-Length nor Transfer-Encoding has no body; a chunked body, and any
 * request that did not come through Node's server (app.request in-process), is counted as it streams in, by Hono's
 * own body limit.
 *
 * Why not Hono's alone: it starts by asking the request for its body stream, and on @hono/node-server that builds
 * a whole web Request (undici's, with a ReadableStream over the socket and an AbortSignal) for every request, GETs
 * included, where the routes then read the body straight from Node's stream: ~0.1 ms per request, profiled under
 * `bench:peers` load, about what the rest of the gateway's own code takes for a chat completion.
 */
export function bodyLimit(options: BodyLimitOptions): MiddlewareHandler {
  const streamed = streamedBodyLimit(options);
  return async function bodyLimitHandler(c, next) {
    if (!servedOverHttp1(c) || c.req.header("transfer-encoding") !== undefined) return streamed(c, next);
    const length = c.req.header("content-length");
    if (length === undefined) return next();
    return Number(length) > options.maxSize ? options.onError(c) : next();
  };
}

function servedOverHttp1(c: Context): boolean {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  return incoming !== undefined && incoming.httpVersionMajor === 1;
}
