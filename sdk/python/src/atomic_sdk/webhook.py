"""Verifying a webhook delivery of an asynchronous task, as the gateway signs it.

The gateway POSTs the task's outcome with `x-atomic-task-id`, `x-atomic-delivery-attempt` and `x-atomic-signature`:
a compact JWS (alg EdDSA, typ atomic-webhook+jwt, kid the audit key's name) made with the audit log's signing key,
whose payload is {taskId, attempt, iat, bodySha256}. A delivery is genuine when the signature verifies with a key the
receiver trusts (the log's public JWK), bodySha256 is the SHA-256 of the body bytes as received, taskId and attempt
are the headers', and iat is within the tolerance of now. Delivery is at least once: deduplicate by task id.
The gateway signs each delivery (each retry too) with its current key when it sends it, so a retired key (given with
retired_at) signs none: only the keys given without a bound are used.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass

from .audit.encoding import base64url, is_index
from .audit.keys import PublicKeys, trusted_keys
from .errors import VerificationError

SIGNATURE_TYPE = "atomic-webhook+jwt"
DEFAULT_TOLERANCE_SECONDS = 300


@dataclass(frozen=True)
class WebhookDelivery:
    task_id: str
    attempt: int
    iat: int
    """When the gateway signed this attempt, in seconds since the epoch."""
    key_name: str


def verify_webhook(
    body: bytes,
    headers: Mapping[str, str],
    keys: PublicKeys,
    *,
    tolerance_seconds: float = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> WebhookDelivery:
    """Verifies one delivery: `body` exactly as received, its `headers` (any case), against the keys given without a
    bound (a retired key, {"key": jwk, "retired_at": N} or PublicKey.retired(N), signs no delivery; keys that are all
    retired are key_invalid). Raises VerificationError: key_invalid, signature_missing, signature_malformed,
    signature_algorithm, signature_type, unknown_key, signature_invalid, body_mismatch, task_mismatch,
    attempt_mismatch, timestamp_out_of_tolerance."""
    given = trusted_keys(keys)
    trusted = [key for key in given if key.retired_at is None]
    if not trusted:
        raise VerificationError(
            "key_invalid",
            "every key given is retired (given with retired_at): a webhook is signed with the gateway's current key, so give that key without a bound",
        )
    note = "; the keys given with retired_at are not used for webhooks" if len(trusted) < len(given) else ""
    lowered = {name.lower(): value for name, value in headers.items()}
    token = lowered.get("x-atomic-signature")
    if not token:
        raise VerificationError("signature_missing", "the delivery has no x-atomic-signature header")

    def malformed(why: str) -> VerificationError:
        return VerificationError("signature_malformed", f"x-atomic-signature {why}")

    parts = token.split(".")
    if len(parts) != 3:
        raise malformed("is not a compact JWS (three base64url parts)")
    decoded = [base64url(part) for part in parts]
    if any(part is None for part in decoded):
        raise malformed("has a part that is not base64url")
    header_bytes, payload_bytes, signature = decoded
    header = _json_object(header_bytes)
    if header is None:
        raise malformed("has a protected header that is not a JSON object")
    if "crit" in header:
        raise malformed("names critical extensions, which this verifier does not know")
    if header.get("alg") != "EdDSA":
        raise VerificationError("signature_algorithm", f"the signature's alg is {header.get('alg')!r}, not \"EdDSA\"")
    if header.get("typ") != SIGNATURE_TYPE:
        raise VerificationError("signature_type", f"the signature's typ is {header.get('typ')!r}, not {SIGNATURE_TYPE!r}")
    candidates = [key for key in trusted if key.name == header.get("kid")]
    if not candidates:
        raise VerificationError("unknown_key", f"the signature's kid {header.get('kid')!r} names none of the keys given{note}")
    signed = f"{parts[0]}.{parts[1]}".encode("ascii")
    key = next((key for key in candidates if key.verify(signature, signed)), None)
    if key is None:
        raise VerificationError("signature_invalid", f"the signature does not verify with the key(s) named {header['kid']!r}{note}")

    payload = _json_object(payload_bytes) or {}
    if not (isinstance(payload.get("taskId"), str) and isinstance(payload.get("bodySha256"), str) and is_index(payload.get("attempt")) and is_index(payload.get("iat"))):
        raise malformed("signs no {taskId, attempt, iat, bodySha256}")
    if payload["bodySha256"] != hashlib.sha256(body).hexdigest():
        raise VerificationError("body_mismatch", "the body is not the one signed (bodySha256 differs)")
    if lowered.get("x-atomic-task-id") != payload["taskId"]:
        raise VerificationError("task_mismatch", f"x-atomic-task-id is not the signed task {payload['taskId']}")
    attempt, iat = int(payload["attempt"]), int(payload["iat"])
    if lowered.get("x-atomic-delivery-attempt") != str(attempt):
        raise VerificationError("attempt_mismatch", f"x-atomic-delivery-attempt is not the signed attempt {attempt}")
    skew = abs((time.time() if now is None else now) - iat)
    if skew > tolerance_seconds:
        raise VerificationError("timestamp_out_of_tolerance", f"signed {skew:.0f} s from now, more than the {tolerance_seconds} s tolerated")
    return WebhookDelivery(task_id=payload["taskId"], attempt=attempt, iat=iat, key_name=key.name)


def _json_object(data: bytes | None) -> dict | None:
    try:
        value = json.loads(data) if data is not None else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
