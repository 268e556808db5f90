import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { RequestError } from "@hono/node-server";
import { ApiError } from "./errors.js";

/** The headers of every refusal answered here, before or beside the app: JSON, not sniffed, and the connection closed. */
const REFUSAL_HEADERS = { "content-type": "application/json", "x-content-type-options": "nosniff", connection: "close" } as const;

/** The socket's response in progress, as Node's HTTP server keeps it (what its own clientError default checks). */
type HttpSocket = Duplex & { _httpMessage?: { headersSent: boolean } | null };

/**
 * Answers what Node's HTTP parser refuses before any route sees it — a malformed request line or header, headers
 * too large, a request that took too long to arrive — in the gateway's JSON error shape instead of Node's bare
 * `400 Bad Request`. The connection is closed: after a parse error nothing says where a next request would start.
 * A peer that is already gone, or a response already under way on the socket, gets nothing more.
 */
export function answerClientError(error: Error & { code?: string }, socket: HttpSocket): void {
  if (error.code === "ECONNRESET" || !socket.writable || socket._httpMessage?.headersSent) {
    socket.destroy();
    return;
  }
  const refusal = refusalFor(error.code);
  const body = JSON.stringify(refusal.toBody());
  const headers = Object.entries({ ...REFUSAL_HEADERS, "content-length": Buffer.byteLength(body) }).map(([name, value]) => `${name}: ${value}\r\n`).join("");
  socket.end(`HTTP/1.1 ${refusal.status} ${REASON_PHRASES[refusal.status]}\r\n${headers}\r\n${body}`);
}

const REASON_PHRASES: Record<number, string> = { 400: "Bad Request", 408: "Request Timeout", 431: "Request Header Fields Too Large" };

function refusalFor(code: string | undefined): ApiError {
  switch (code) {
    case "HPE_HEADER_OVERFLOW":
      return new ApiError(431, "invalid_request_error", "request_headers_too_large", "the request's headers are larger than the server accepts");
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return new ApiError(408, "invalid_request_error", "request_timeout", "the request did not arrive in time");
    default:
      return new ApiError(400, "invalid_request_error", "malformed_request", "the request is not well-formed HTTP/1.1");
  }
}

/**
 * What @hono/node-server answers itself, before the app runs, for a request it cannot turn into a URL (a backslash in
 * the path, a Host header that is not a host, an invalid absolute-form target): the gateway's JSON error instead of
 * its bare, empty 400. Anything else reaching here failed outside every route and is a 500 that says nothing more.
 */
export function unroutableRequest(error: unknown): Response {
  const refusal = error instanceof RequestError
    ? new ApiError(400, "invalid_request_error", "malformed_request", "the request's target or Host header is not a URL this gateway serves")
    : new ApiError(500, "server_error", "internal_error", "internal error");
  return new Response(JSON.stringify(refusal.toBody()), { status: refusal.status, headers: REFUSAL_HEADERS });
}

/** An `Expect` other than 100-continue, which Node would answer with a bare 417: the JSON error, then close. */
export function answerUnmetExpectation(_request: IncomingMessage, response: ServerResponse): void {
  const body = JSON.stringify(new ApiError(417, "invalid_request_error", "expectation_failed", "the only Expect this gateway meets is 100-continue").toBody());
  response.writeHead(417, { ...REFUSAL_HEADERS, "content-length": Buffer.byteLength(body) });
  response.end(body);
}
