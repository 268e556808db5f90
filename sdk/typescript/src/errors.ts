import type { Error as ErrorBody } from "./api-types.js";

/** What failed without an answer from the gateway: it could not be reached, or did not answer in time. */
export type TransportErrorCode = "connection_error" | "timeout";

/**
 * Every failure of a call to the gateway. An error the gateway answered carries its HTTP status and its stable
 * `code` (what a client branches on: `task_not_found`, `schema_version_conflict`, `insufficient_scope`, …), the
 * parameter at fault, and the `x-request-id` to find it in the gateway's log. A failure without an answer has
 * status null and code `connection_error` or `timeout`, with the underlying error as `cause`.
 */
export class AtomicError extends Error {
  override readonly name = "AtomicError";
  /** The HTTP status; null when no answer came. */
  readonly status: number | null;
  readonly code: string;
  /** The gateway's error type (`invalid_request_error`, `not_found_error`, …), or `connection_error`. */
  readonly type: string;
  readonly param: string | null;
  /** More on some errors: every validation issue, a schema's violations. */
  readonly details: unknown;
  readonly requestId: string | null;

  constructor(init: { status: number | null; code: string; type: string; message: string; param?: string | null; details?: unknown; requestId?: string | null; cause?: unknown }) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.status = init.status;
    this.code = init.code;
    this.type = init.type;
    this.param = init.param ?? null;
    this.details = init.details;
    this.requestId = init.requestId ?? null;
  }
}

function isErrorBody(value: unknown): value is ErrorBody {
  const error = (value as { error?: unknown } | null)?.error as Record<string, unknown> | undefined;
  return typeof error === "object" && error !== null && typeof error["code"] === "string" && typeof error["message"] === "string";
}

/** The error of an answer that is not a success, from its `{error: {…}}` body or, failing that, its status. */
export async function errorOf(response: Response): Promise<AtomicError> {
  const requestId = response.headers.get("x-request-id");
  const text = await response.text().catch(() => "");
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (isErrorBody(body)) {
    const { type, code, message, param, details } = body.error;
    return new AtomicError({ status: response.status, code, type: typeof type === "string" ? type : "server_error", message, param: param ?? null, details, requestId });
  }
  // Not the gateway's shape: a proxy in between, or something that is not an Atomic gateway.
  return new AtomicError({ status: response.status, code: `http_${response.status}`, type: "server_error", message: `HTTP ${response.status}: ${text.slice(0, 200) || response.statusText}`, requestId });
}
