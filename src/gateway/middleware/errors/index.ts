import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { OrchestrationUnavailableError } from "../../../orchestration/service/interface.js";
import { ApiError, notFound, orchestrationUnavailable } from "../../errors.js";

declare module "hono" {
  interface ContextVariableMap {
    /** The stable code of the error this request was answered with (for the metrics middleware). */
    errorCode: string;
  }
}

function respond(c: Context, error: ApiError): Response {
  // The code as the client gets it, whatever was thrown: what the metrics count answers by.
  c.set("errorCode", error.code);
  for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
  return c.json(error.toBody(), error.status);
}

/** Answers every thrown error as JSON with a stable code; unexpected errors are logged, never shown. */
export function errorHandler(): ErrorHandler {
  return function handleError(error, c) {
    if (error instanceof ApiError) return respond(c, error);
    if (error instanceof OrchestrationUnavailableError) {
      c.get("log")?.warn({ err: error }, "orchestration unavailable");
      return respond(c, orchestrationUnavailable());
    }
    if (error instanceof HTTPException && error.status < 500) {
      return respond(c, new ApiError(error.status, "invalid_request_error", "invalid_request", error.message || "invalid request"));
    }
    c.get("log")?.error({ err: error }, "unhandled error");
    return respond(c, new ApiError(500, "server_error", "internal_error", "internal error; see the gateway log for this request id"));
  };
}

export function notFoundHandler(): NotFoundHandler {
  return function handleNotFound(c) {
    return respond(c, notFound("route_not_found", `no route for ${c.req.method} ${c.req.path}`));
  };
}
