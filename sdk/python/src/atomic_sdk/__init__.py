"""Atomic's own API from Python: tasks, schemas, executions, feedback, decisions, the audit log and its event stream,
with offline verification of audit receipts and webhook signatures. The OpenAI-compatible routes are the official
`openai` client's."""

from ._version import __version__
from .audit import Checkpoint, KeyIdentity, PublicKey, VerifiedReceipt, parse_checkpoint, trusted_keys, verify_checkpoint, verify_receipt
from .client import Client
from .errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AtomicError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
    VerificationError,
)
from .sse import ServerSentEvent
from .webhook import WebhookDelivery, verify_webhook

__all__ = [
    "__version__",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AtomicError",
    "AuthenticationError",
    "BadRequestError",
    "Checkpoint",
    "Client",
    "ConflictError",
    "InternalServerError",
    "KeyIdentity",
    "NotFoundError",
    "PermissionDeniedError",
    "PublicKey",
    "RateLimitError",
    "ServerSentEvent",
    "UnprocessableEntityError",
    "VerificationError",
    "VerifiedReceipt",
    "WebhookDelivery",
    "parse_checkpoint",
    "trusted_keys",
    "verify_checkpoint",
    "verify_receipt",
    "verify_webhook",
]
