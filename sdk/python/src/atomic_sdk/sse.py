"""Server-sent events (the WHATWG event stream format), read from a response line by line as they arrive."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ServerSentEvent:
    event: str
    """The event's type: `progress` or `done` for a task, the audit event's kind on GET /v1/events."""
    data: str
    id: str | None
    """The last id the stream set: on GET /v1/events the event's index in the audit log, to resume after."""
    retry: int | None = None

    def json(self) -> Any:
        return json.loads(self.data)


def parse_events(lines: Iterable[bytes]) -> Iterator[ServerSentEvent]:
    """The events of a stream given as its lines (each with or without its line ending)."""
    event, data, last_id, retry = "", [], None, None
    for raw in lines:
        line = raw.decode("utf-8").rstrip("\n")
        if line.endswith("\r"):
            line = line[:-1]
        if line == "":
            if data:
                yield ServerSentEvent(event or "message", "\n".join(data), last_id, retry)
            event, data = "", []
            continue
        if line.startswith(":"):
            continue  # a comment: the gateway's keep-alive
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
        elif name == "id" and "\0" not in value:
            last_id = value
        elif name == "retry" and value.isdigit():
            retry = int(value)
