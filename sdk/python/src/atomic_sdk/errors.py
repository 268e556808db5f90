"""What can go wrong: the gateway's refusals (with its stable error code), the way there, and offline verification."""

from __future__ import annotations

from typing import Any


class AtomicError(Exception):
    """Base of every error this SDK raises."""


class APIConnectionError(AtomicError):
    """The gateway could not be reached, or the connection broke."""


class APITimeoutError(APIConnectionError):
    """The gateway sent nothing within the client's timeout."""


class APIStatusError(AtomicError):
    """The gateway refused the request: `code` is its stable error code (docs/api.md's error list), `status` the
    HTTP status."""

    def __init__(self, status: int, body: Any, headers: dict[str, str]) -> None:
        error = body.get("error") if isinstance(body, dict) and isinstance(body.get("error"), dict) else {}
        self.status = status
        self.type: str | None = error.get("type")
        self.code: str | None = error.get("code")
        self.param: str | None = error.get("param")
        self.details: Any = error.get("details")
        self.body = body
        self.headers = headers
        self.request_id = headers.get("x-request-id")
        retry_after = headers.get("retry-after")
        self.retry_after: float | None = float(retry_after) if retry_after and retry_after.isdigit() else None
        self.message: str = error.get("message") or f"HTTP {status}"
        super().__init__(f"{status} {self.code or 'error'}: {self.message}")


class BadRequestError(APIStatusError):
    """400: the request is not valid (invalid_parameter, schema_invalid, …)."""


class AuthenticationError(APIStatusError):
    """401: no credentials, or ones the gateway never issued."""


class PermissionDeniedError(APIStatusError):
    """403: the key lacks a scope, or a policy refused the request."""


class NotFoundError(APIStatusError):
    """404: task_not_found, execution_not_found, schema_not_found, audit_event_pending, …"""


class ConflictError(APIStatusError):
    """409: schema_version_conflict, task_not_running."""


class UnprocessableEntityError(APIStatusError):
    """422: the model's answer did not satisfy the schema."""


class RateLimitError(APIStatusError):
    """429: a rate limit or token budget; `retry_after` says when to try again."""


class InternalServerError(APIStatusError):
    """5xx: the gateway failed, or is overloaded or without orchestration (503, with `retry_after`)."""


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error(status: int, body: Any, headers: dict[str, str]) -> APIStatusError:
    cls = _BY_STATUS.get(status, InternalServerError if status >= 500 else APIStatusError)
    return cls(status, body, headers)


class VerificationError(AtomicError):
    """Offline verification failed: `code` says which check (the same codes as Atomic's own verifiers)."""

    def __init__(self, code: str, reason: str) -> None:
        self.code = code
        self.reason = reason
        super().__init__(f"{code}: {reason}")
