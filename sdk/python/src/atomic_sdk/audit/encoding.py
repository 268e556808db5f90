"""The strict encodings the audit formats use: a text that decodes must be the one encoding of its bytes."""

from __future__ import annotations

import base64
import binascii
import re

_STANDARD_BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
MAX_SAFE_INTEGER = 2**53 - 1


def standard_base64(text: object) -> bytes | None:
    """Standard base64 with padding, or None unless re-encoding the bytes gives the same text."""
    if not isinstance(text, str) or not _STANDARD_BASE64.fullmatch(text):
        return None
    data = base64.b64decode(text)
    return data if base64.b64encode(data).decode("ascii") == text else None


def to_base64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def base64url(text: object) -> bytes | None:
    """Unpadded base64url (RFC 7515), or None unless re-encoding the bytes gives the same text."""
    if not isinstance(text, str) or not _BASE64URL.fullmatch(text) or len(text) % 4 == 1:
        return None
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error:
        return None
    return data if base64.urlsafe_b64encode(data).decode("ascii").rstrip("=") == text else None


def is_index(value: object) -> bool:
    """A JSON number that is a non-negative safe integer (5 and 5.0 alike, as JavaScript reads them)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return float(value).is_integer() and 0 <= value <= MAX_SAFE_INTEGER


def utf8(text: str) -> bytes:
    """UTF-8 as JavaScript's Buffer.from writes it: a lone surrogate becomes U+FFFD."""
    if _has_surrogate(text):
        text = "".join("\ufffd" if 0xD800 <= ord(char) <= 0xDFFF else char for char in text)
    return text.encode("utf-8")


def _has_surrogate(text: str) -> bool:
    return any(0xD800 <= ord(char) <= 0xDFFF for char in text)


def is_well_formed(text: str) -> bool:
    """No lone surrogates (Python keeps them apart, so any surrogate is a lone one)."""
    return not _has_surrogate(text)
