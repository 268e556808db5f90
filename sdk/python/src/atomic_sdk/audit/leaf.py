"""An audit log leaf: the canonical JSON of {"event", "index", "prev"} that the log hashed (audit/FORMAT.md §1)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..errors import VerificationError
from . import canonical
from .encoding import is_index

_EVENT_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
_HEX_HASH = re.compile(r"[0-9a-f]{64}")
_LEAF_FIELDS = ("event", "index", "prev")


@dataclass(frozen=True)
class Leaf:
    index: int
    prev: str
    event: dict[str, Any]


def _event_problem(event: object) -> str | None:
    if not isinstance(event, dict):
        return "not an object"
    v = event.get("v")
    if isinstance(v, bool) or v != 1:
        return f"version {v!r} is not 1"
    if not isinstance(event.get("id"), str) or event["id"] == "":
        return "no id"
    if not isinstance(event.get("time"), str) or not _EVENT_TIME.fullmatch(event["time"]):
        return "time is not UTC ISO 8601 with milliseconds"
    if not isinstance(event.get("kind"), str) or event["kind"] == "":
        return "no kind"
    return None


def decode_leaf(text: str) -> Leaf:
    """The leaf's fields; raises VerificationError: entry_malformed, or entry_not_canonical for a leaf in other than
    its canonical bytes (which the log never writes)."""

    def malformed(reason: str) -> VerificationError:
        return VerificationError("entry_malformed", f"the receipt's leaf: {reason}")

    try:
        value = canonical.parse(text)
        if canonical.canonicalize(value) != text:
            raise VerificationError("entry_not_canonical", "the receipt's leaf is not in canonical JSON (RFC 8785) form")
    except canonical.NotJSON as error:
        raise malformed(f"leaf is not JSON ({error})") from None
    except canonical.NoCanonicalForm as error:
        raise malformed(f"leaf has no canonical form ({error})") from None
    if not isinstance(value, dict):
        raise malformed("leaf is not a JSON object")
    for name in _LEAF_FIELDS:
        if name not in value:
            raise malformed(f'leaf has no "{name}"')
    for name in value:
        if name not in _LEAF_FIELDS:
            raise malformed(f"leaf has an unexpected field {name!r}")
    index, prev, event = value["index"], value["prev"], value["event"]
    if not is_index(index):
        raise malformed("leaf index is not a non-negative safe integer")
    if not isinstance(prev, str) or not _HEX_HASH.fullmatch(prev):
        raise malformed("leaf prev is not 64 lowercase hex digits")
    problem = _event_problem(event)
    if problem is not None:
        raise malformed(f"leaf event: {problem}")
    return Leaf(int(index), prev, event)
