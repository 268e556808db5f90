import type { ContentfulStatusCode } from "hono/utils/http-status";
import { InferenceAbortedError, InferenceError, ModelUnavailableError, QueueFullError } from "../inference/errors.js";

export const ERROR_TYPES = [
  "invalid_request_error",
  "authentication_error",
  "permission_error",
  "rate_limit_error",
  "not_found_error",
  "overloaded_error",
  "server_error",
] as const;
export type ErrorType = (typeof ERROR_TYPES)[number];

/** The JSON body of every error Atomic returns, in the OpenAI shape that existing clients already parse. */
export interface ErrorBody {
  error: { type: ErrorType; code: string; message: string; param: string | null; details?: unknown };
}

/**
 * An error meant for the client: a status, a stable machine-readable code, and a message safe to show. Anything
 * else thrown inside a route is answered as a bare 500 `internal_error` and logged, never echoed.
 */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly status: ContentfulStatusCode,
    readonly type: ErrorType,
    readonly code: string,
    message: string,
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
    readonly details?: unknown,
  ) {
    super(message);
  }

  toBody(): ErrorBody {
    return { error: { type: this.type, code: this.code, message: this.message, param: this.param, ...(this.details === undefined ? {} : { details: this.details }) } };
  }
}

export const invalidRequest = (code: string, message: string, param: string | null = null, details?: unknown) =>
  new ApiError(400, "invalid_request_error", code, message, param, {}, details);

export const notFound = (code: string, message: string, param: string | null = null) =>
  new ApiError(404, "not_found_error", code, message, param);

/**
 * A 404 for an id or name the caller's tenant does not hold. It is answered as unknown (another tenant's looks like
 * none at all) and recorded as a refusal (`request.refused`, aggregated like 401s), so that probing across tenants
 * is on the record.
 */
export class UnknownToTenantError extends ApiError {}
export const unknownToTenant = (code: string, message: string, param: string | null = null) =>
  new UnknownToTenantError(404, "not_found_error", code, message, param);

/** Temporal did not answer (OrchestrationUnavailableError): worth a retry in a few seconds. */
export const orchestrationUnavailable = () =>
  new ApiError(503, "overloaded_error", "orchestration_unavailable", "Temporal, which runs asynchronous tasks, cannot be reached now; retry later", null, { "Retry-After": "5" });

/** A model that is loading or restarting is usually back within a second or two. */
const UNAVAILABLE_RETRY_AFTER_SECONDS = 1;

/** Maps inference failures to HTTP: overload and unavailability are 503 with Retry-After, never a hang. */
export function fromInferenceError(error: InferenceError): ApiError {
  if (error instanceof QueueFullError) {
    return new ApiError(503, "overloaded_error", error.code, error.message, null, { "Retry-After": String(error.retryAfterSeconds) });
  }
  if (error instanceof ModelUnavailableError) {
    if (error.code === "model_not_found") return notFound(error.code, error.message, "model");
    // An operator took the model out of service: no retry brings it back before POST …/load, so no Retry-After
    // (clients that honour one would retry every second for as long as it stays unloaded).
    if (error.code === "model_unloaded") return new ApiError(503, "overloaded_error", error.code, error.message, "model");
    return new ApiError(503, "overloaded_error", error.code, error.message, "model", { "Retry-After": String(UNAVAILABLE_RETRY_AFTER_SECONDS) });
  }
  if (error.code === "context_length_exceeded") {
    return new ApiError(400, "invalid_request_error", error.code, error.message, "input");
  }
  if (error instanceof InferenceAbortedError) {
    // 499 is nginx's "client closed request"; the client is gone, so this only reaches logs and records.
    return new ApiError(499 as ContentfulStatusCode, "invalid_request_error", error.code, error.message);
  }
  return new ApiError(500, "server_error", error.code, "inference failed; see the gateway log for this request id");
}
