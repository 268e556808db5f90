"""Canonical JSON (RFC 8785) exactly as the gateway's audit log writes it, to recognise a leaf in its one true form.

Objects' keys are sorted by UTF-16 code units, strings escaped and numbers written as ECMAScript's JSON.stringify
writes them: every number is an IEEE 754 double, as in the gateway.
"""

from __future__ import annotations

import json
from typing import Any

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


class NotJSON(ValueError):
    """The text is not JSON as JSON.parse reads it."""


class NoCanonicalForm(ValueError):
    """The value has no canonical form (a number beyond the doubles)."""


def _refuse_constant(name: str) -> Any:
    raise NotJSON(f"{name} is not JSON")


def parse(text: str) -> Any:
    """JSON.parse's reading of `text`: NaN and Infinity are not JSON."""
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        raise NotJSON(str(error)) from None
    except RecursionError:
        raise NotJSON("nested too deeply") from None


def canonicalize(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return number(value)
    if isinstance(value, str):
        return string(value)
    if isinstance(value, list):
        return "[" + ",".join(canonicalize(item) for item in value) + "]"
    if isinstance(value, dict):
        keys = sorted(value, key=_utf16_units)
        return "{" + ",".join(string(key) + ":" + canonicalize(value[key]) for key in keys) + "}"
    raise TypeError(f"{type(value).__name__} is not a JSON value")


def is_canonical(text: str) -> bool:
    """Whether `text` is exactly the canonical form of what it parses to. Raises NotJSON or NoCanonicalForm."""
    return canonicalize(parse(text)) == text


def _utf16_units(key: str) -> bytes:
    # Big-endian UTF-16 bytes compare as the code units do.
    return key.encode("utf-16-be", "surrogatepass")


def string(text: str) -> str:
    out = ['"']
    for char in text:
        code = ord(char)
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif code < 0x20 or 0xD800 <= code <= 0xDFFF:
            # Control characters, and lone surrogates (JSON.stringify's well-formed output), as lower-case escapes.
            out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def number(value: int | float) -> str:
    """ECMAScript's Number::toString of the double nearest `value`."""
    try:
        x = float(value)
    except OverflowError:
        raise NoCanonicalForm(f"{value} is beyond the largest double") from None
    if x != x or x in (float("inf"), float("-inf")):
        raise NoCanonicalForm(f"{x} is not a JSON number")
    if x == 0:
        return "0"
    if x < 0:
        return "-" + number(-x)
    # repr gives the shortest digits that read back as x, as ECMAScript chooses them; only the layout differs.
    mantissa, _, exponent = repr(x).partition("e")
    whole, _, fraction = mantissa.partition(".")
    run = whole + fraction
    leading = len(run) - len(run.lstrip("0"))
    digits = run.strip("0")
    k = len(digits)
    n = len(whole) - leading + (int(exponent) if exponent else 0)
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * -n + digits
    e = n - 1
    sign = "+" if e >= 0 else "-"
    head = digits if k == 1 else digits[0] + "." + digits[1:]
    return f"{head}e{sign}{abs(e)}"
