"""GET /v1/events: the tenant's audit events as server-sent events, resumed after the last one received."""

from __future__ import annotations

import http.client
import socket
import time
from collections.abc import Iterator
from typing import Any

from ._http import Transport
from .errors import APIConnectionError
from .sse import ServerSentEvent, parse_events

DEFAULT_RETRY_SECONDS = 1.0


class EventStream:
    """Iterates the stream's events; when the connection ends or breaks, reconnects with Last-Event-ID set to the
    last id received (after `retry` seconds, the stream's or 1 s), so that no event is missed. Delivery is at least
    once: an event may come twice across a reconnection. `max_reconnects` bounds consecutive failed reconnections.
    Close it (or leave a `with` block) to drop the connection."""

    def __init__(self, transport: Transport, *, last_event_id: str | None, kinds: list[str] | None, timeout: float, reconnect: bool, max_reconnects: int) -> None:
        self._transport = transport
        self.last_event_id = last_event_id
        self._query = {"kinds": ",".join(kinds) if kinds else None}
        self._timeout = timeout
        self._reconnect = reconnect
        self._max_reconnects = max_reconnects
        self._response: Any = None
        self._closed = False

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._closed = True
        if self._response is not None:
            self._response.close()

    def __iter__(self) -> Iterator[ServerSentEvent]:
        failures, retry = 0, DEFAULT_RETRY_SECONDS
        while not self._closed:
            headers = {"accept": "text/event-stream"}
            if self.last_event_id is not None:
                headers["last-event-id"] = self.last_event_id
            try:
                self._response = self._transport.open("GET", "/v1/events", timeout=self._timeout, query=self._query, headers=headers)
                failures = 0
                with self._response:
                    for event in parse_events(self._response):
                        self.last_event_id = event.id
                        retry = event.retry / 1000 if event.retry is not None else retry
                        yield event
            except (APIConnectionError, http.client.HTTPException, socket.timeout, TimeoutError, OSError) as error:
                if self._closed:
                    return
                failures += 1
                if not self._reconnect or failures > self._max_reconnects:
                    raise error if isinstance(error, APIConnectionError) else APIConnectionError(f"GET /v1/events: {error}") from error
            if not self._reconnect:
                return
            time.sleep(retry)
