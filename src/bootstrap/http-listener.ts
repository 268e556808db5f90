import { getRequestListener, type ServerType } from "@hono/node-server";
import { createServer as createHttpServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { Config } from "../config/schema.js";
import { answerClientError, answerUnmetExpectation, unroutableRequest } from "../gateway/client-error.js";
import type { TlsMaterial } from "./tls.js";

export interface HttpListenerOptions {
  host: string;
  port: number;
  /** How long a request's headers, and the whole request, may take to arrive (config `server`). */
  timeouts: Pick<Config["server"], "headersTimeoutMs" | "requestTimeoutMs">;
  tls?: TlsMaterial | null;
}

/**
 * An HTTP(S) server for a Hono app that answers everything in the gateway's JSON error shape — what Node's parser
 * refuses (clientError), what @hono/node-server cannot make a URL of (errorHandler), an unmet Expect — and bounds how
 * long a request may take to arrive, checked every second rather than Node's 30 s (its own defaults let a client
 * that stops sending hold a connection for 300 s). The headers are part of the request, so their bound is at most
 * the request's (Node refuses it otherwise). Resolves once listening.
 */
export function listenHttp(fetch: (request: Request) => Response | Promise<Response>, options: HttpListenerOptions): Promise<ServerType> {
  const listener = getRequestListener(fetch, { hostname: options.host, errorHandler: unroutableRequest });
  const { headersTimeoutMs, requestTimeoutMs } = options.timeouts;
  const timeouts = { headersTimeout: Math.min(headersTimeoutMs, requestTimeoutMs), requestTimeout: requestTimeoutMs, connectionsCheckingInterval: 1_000 };
  const { tls } = options;
  const server = tls == null ? createHttpServer(timeouts, listener) : createHttpsServer({ ...timeouts, cert: tls.cert, key: tls.key }, listener);
  server.on("clientError", answerClientError);
  server.on("checkExpectation", answerUnmetExpectation);
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve(server));
  });
}
