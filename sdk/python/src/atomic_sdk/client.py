"""The client for Atomic's own routes (what the official OpenAI clients do not cover)."""

from __future__ import annotations

import http.client
import time
import urllib.parse
from collections.abc import Iterator, Mapping
from typing import Any, cast

from ._http import Transport
from .errors import APIConnectionError, NotFoundError
from .events import EventStream
from .sse import ServerSentEvent, parse_events
from .types import Decision, Execution, Feedback, Receipt, SchemaRecord, Task, TaskAccepted, TaskCancelling, TaskResult

_UNSET: Any = object()


def _segment(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def _schema_ref(schema: str | Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    return {"name": schema} if isinstance(schema, str) else schema


class Client:
    """A gateway at `base_url` (its root, e.g. "http://127.0.0.1:8080"), as the holder of `api_key`.

    `timeout`: seconds to wait for the gateway to connect or to send more of an answer (a synchronous task waits for
    inference: give it time). `stream_timeout`: the same for event streams, which the gateway keeps alive with a
    comment every 15 s. Refusals raise APIStatusError subclasses carrying the gateway's stable error `code`.
    """

    def __init__(self, base_url: str, api_key: str | None = None, *, timeout: float = 120.0, stream_timeout: float = 60.0, headers: Mapping[str, str] | None = None) -> None:
        self._http = Transport(base_url, api_key, headers or {})
        self.timeout = timeout
        self.stream_timeout = stream_timeout

    def _json(self, method: str, path: str, **options: Any) -> Any:
        return self._http.json(method, path, timeout=self.timeout, **options)

    # Tasks

    def run_task(self, input: str | Mapping[str, Any], *, schema: str | Mapping[str, Any] | None = None, **params: Any) -> TaskResult:
        """A synchronous task: answered when done, with the result valid against the schema. `schema` is a
        registered schema's name, or the request's form ({"name", "version"} or {"inline": <JSON Schema>}); other
        parameters (instructions, model, max_tokens, temperature, seed, criteria, …) as POST /v1/tasks takes them."""
        body = {"input": input, "mode": "sync", "schema": _schema_ref(schema), **params}
        return cast(TaskResult, self._json("POST", "/v1/tasks", body={k: v for k, v in body.items() if v is not None}))

    def submit_task(self, input: str | Mapping[str, Any], *, schema: str | Mapping[str, Any] | None = None, webhook_url: str | None = None, **params: Any) -> TaskAccepted:
        """An asynchronous task: accepted at once and run as a durable workflow; follow it with get_task,
        task_events or wait_task. `webhook_url` (its origin on the gateway's webhooks.allow) is POSTed the signed
        outcome: check it with verify_webhook."""
        body = {"input": input, "mode": "async", "schema": _schema_ref(schema), "webhook": {"url": webhook_url} if webhook_url else None, **params}
        return cast(TaskAccepted, self._json("POST", "/v1/tasks", body={k: v for k, v in body.items() if v is not None}))

    def get_task(self, task_id: str) -> Task:
        return cast(Task, self._json("GET", f"/v1/tasks/{_segment(task_id)}"))

    def cancel_task(self, task_id: str) -> TaskCancelling:
        """Asks a running task to stop; ConflictError (task_not_running) once it has ended."""
        return cast(TaskCancelling, self._json("POST", f"/v1/tasks/{_segment(task_id)}/cancel"))

    def task_events(self, task_id: str) -> Iterator[ServerSentEvent]:
        """The task's events as they happen: `progress` (event.json() is the task) whenever it changes, then one
        `done` with the finished task, then the stream ends."""
        path = f"/v1/tasks/{_segment(task_id)}/events"
        with self._http.open("GET", path, timeout=self.stream_timeout, headers={"accept": "text/event-stream"}) as response:
            try:
                yield from parse_events(response)
            except (OSError, http.client.HTTPException) as error:
                raise APIConnectionError(f"GET {path}: {error}") from error

    def wait_task(self, task_id: str) -> Task:
        """The finished task, from its event stream's `done` event."""
        for event in self.task_events(task_id):
            if event.event == "done":
                return cast(Task, event.json())
        raise APIConnectionError(f"the event stream of task {task_id} ended before it was done")

    # Schemas

    def register_schema(self, name: str, schema: Mapping[str, Any], *, version: int | None = None, description: str | None = None) -> SchemaRecord:
        """Registers a JSON Schema under `name` (the next version, or `version`); the same document again is a
        success, another one under a taken version ConflictError (schema_version_conflict)."""
        body = {"name": name, "schema": schema, "version": version, "description": description}
        return cast(SchemaRecord, self._json("POST", "/v1/schemas", body={k: v for k, v in body.items() if v is not None}))

    def get_schema(self, name: str, version: int | None = None) -> SchemaRecord:
        path = f"/v1/schemas/{_segment(name)}" + ("" if version is None else f"/versions/{int(version)}")
        return cast(SchemaRecord, self._json("GET", path))

    def list_schemas(self) -> list[SchemaRecord]:
        """The latest version of each of the tenant's schemas."""
        return cast(list, self._json("GET", "/v1/schemas")["data"])

    # Records

    def get_execution(self, execution_id: str) -> Execution:
        return cast(Execution, self._json("GET", f"/v1/executions/{_segment(execution_id)}"))

    def get_execution_receipt(self, execution_id: str, *, tree_size: int | None = None, wait: float = 0.0) -> Receipt:
        """The audit receipt of one of the tenant's own executions, with the scopes that read executions (no
        audit:read): what get_audit_receipt answers for its event, `tree_size` and `wait` alike. Verify it offline
        with verify_receipt."""
        return self._receipt(f"/v1/executions/{_segment(execution_id)}/receipt", tree_size, wait)

    def get_decision(self, decision_id: str) -> Decision:
        """The bidding decision x-atomic-decision-id names (its plan, every bid, the choice), stored under an
        execution's or an asynchronous task's id. NotFoundError decision_not_found where the caller named the model."""
        return cast(Decision, self._json("GET", f"/v1/decisions/{_segment(decision_id)}"))

    def create_feedback(self, execution_id: str, score: float, *, comment: str | None = None, correction: Any = _UNSET) -> Feedback:
        """The caller's score (0…1) of an execution's answer, taught to bidding and adaptation; `correction` is the
        right answer (text, or the JSON value of a structured answer)."""
        body: dict[str, Any] = {"execution_id": execution_id, "score": score}
        if comment is not None:
            body["comment"] = comment
        if correction is not _UNSET:
            body["correction"] = correction
        return cast(Feedback, self._json("POST", "/v1/feedback", body=body))

    def events(self, *, last_event_id: str | int | None = None, kinds: list[str] | None = None, reconnect: bool = True, max_reconnects: int = 5) -> EventStream:
        """The tenant's audit events as they are logged (event.event is the kind, event.json() the event, event.id
        its index in the log), after `last_event_id` if given, else from the start of the log."""
        return EventStream(
            self._http,
            last_event_id=None if last_event_id is None else str(last_event_id),
            kinds=kinds,
            timeout=self.stream_timeout,
            reconnect=reconnect,
            max_reconnects=max_reconnects,
        )

    # The audit log (scope audit:read)

    def get_audit_checkpoint(self) -> str:
        """The latest signed checkpoint, as text: verify it with verify_checkpoint."""
        return self._http.text("GET", "/v1/audit/checkpoint", timeout=self.timeout)

    def get_audit_receipt(self, event_id: str, *, tree_size: int | None = None, wait: float = 0.0) -> Receipt:
        """The receipt of an audit event (an execution's id is its event's id): its leaf with the inclusion proof in
        the latest signed tree, or in the tree of `tree_size`. An event the log has not sequenced yet is
        NotFoundError audit_event_pending: with `wait`, asked again every quarter second (Retry-After is a ceiling:
        the log sequences within its interval) for up to that many seconds.
        Verify it offline with verify_receipt."""
        return self._receipt(f"/v1/audit/receipt/{_segment(event_id)}", tree_size, wait)

    def _receipt(self, path: str, tree_size: int | None, wait: float) -> Receipt:
        deadline = time.monotonic() + wait
        while True:
            try:
                return cast(Receipt, self._json("GET", path, query={"tree_size": tree_size}))
            except NotFoundError as error:
                if error.code != "audit_event_pending" or time.monotonic() >= deadline:
                    raise
                time.sleep(min(error.retry_after or 0.25, 0.25, max(0.0, deadline - time.monotonic())))
