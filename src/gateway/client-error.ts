import type { Duplex } from "node:stream";
import { ApiError } from "./errors.js";

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
  socket.end(
    `HTTP/1.1 ${refusal.status} ${REASON_PHRASES[refusal.status]}\r\n` +
      "content-type: application/json\r\n" +
      `content-length: ${Buffer.byteLength(body)}\r\n` +
      "x-content-type-options: nosniff\r\n" +
      "connection: close\r\n\r\n" +
      body,
  );
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
