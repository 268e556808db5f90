"""The shapes of the gateway's answers (its OpenAPI document's schemas, /openapi.json), for type checkers.

Answers are returned as the JSON objects the gateway sends: these TypedDicts name their members. Objects the gateway
documents as open (a bidding decision, an execution's parameters, an audit event) may carry more than is named.
"""

from __future__ import annotations

from typing import Any, Literal, Optional, TypedDict


class Usage(TypedDict):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class SchemaRef(TypedDict):
    name: str
    version: int


class TaskLinks(TypedDict):
    self: str
    events: str
    cancel: str
    execution: str


class TaskResult(TypedDict):
    """POST /v1/tasks, mode sync: `id` is the execution's (and its audit event's) id."""

    id: str
    object: Literal["task"]
    status: Literal["succeeded"]
    model: str
    result: Any
    schema: Optional[SchemaRef]
    attempts: int
    usage: Usage
    execution: str


class PlannedMicrotask(TypedDict):
    id: str
    model: str
    fallback_models: list[str]
    depends_on: list[str]


class TaskAccepted(TypedDict):
    """POST /v1/tasks, mode async (202)."""

    id: str
    object: Literal["task"]
    mode: Literal["async"]
    status: Literal["queued"]
    microtasks: list[PlannedMicrotask]
    redacted: bool
    links: TaskLinks


class Task(TypedDict, total=False):
    """GET /v1/tasks/{id} and each event of its stream: `status` running, then succeeded, failed, cancelled,
    terminated or timed_out; `result`, `microtasks`, `learning` and `webhook` once finished (from the moment the
    result is recorded: `learning` / `webhook` are {"pending": True} while still under way); `decision` on GET only."""

    id: str
    object: Literal["task"]
    mode: Literal["async"]
    status: str
    links: TaskLinks
    progress: Optional[dict[str, Any]]
    result: Any
    error: Optional[dict[str, Any]]
    microtasks: list[dict[str, Any]]
    learning: Optional[dict[str, Any]]
    webhook: Optional[dict[str, Any]]
    decision: Optional[dict[str, Any]]


class TaskCancelling(TypedDict):
    id: str
    object: Literal["task"]
    status: Literal["cancelling"]
    links: TaskLinks


class SchemaRecord(TypedDict):
    object: Literal["schema"]
    name: str
    version: int
    description: Optional[str]
    schema: dict[str, Any]
    sha256: str
    created_at: str


class Bid(TypedDict):
    model: str
    confidence: float
    cost: float
    latencyMs: float
    score: float
    eligible: bool
    excludedBy: list[str]


class DecisionMicrotask(TypedDict, total=False):
    id: str
    kind: str
    executor: str
    dependsOn: list[str]
    parallel: bool
    bids: list[Bid]
    choice: Optional[dict[str, str]]


class Decision(TypedDict, total=False):
    """The bidding decision behind an execution or task (plan, every bid, the choice)."""

    version: int
    executionId: str
    createdAt: str
    policy: dict[str, Any]
    criteria: dict[str, Any]
    planner: str
    microtasks: list[DecisionMicrotask]


class Execution(TypedDict):
    id: str
    object: Literal["execution"]
    request_id: str
    actor: dict[str, str]
    endpoint: str
    model: str
    model_sha256: str
    status: Literal["succeeded", "failed"]
    error_code: Optional[str]
    parameters: dict[str, Any]
    input: Any
    output: Any
    schema: Optional[SchemaRef]
    usage: Usage
    timings_ms: dict[str, float]
    created_at: str
    completed_at: str
    content_erased: Optional[dict[str, str]]
    trace_id: Optional[str]
    decision: Optional[Decision]


class Feedback(TypedDict):
    object: Literal["feedback"]
    execution_id: str
    outcomes: int
    learned: int
    adaptation: Optional[dict[str, Any]]


class Receipt(TypedDict, total=False):
    """GET /v1/audit/receipt/{eventId}: verify it offline with verify_receipt."""

    object: Literal["audit.receipt"]
    event_id: str
    index: int
    leaf: str
    leaf_hash: str
    chain_hash: str
    tree_size: int
    root: str
    checkpoint: str
    inclusion_proof: list[str]


class AuditEvent(TypedDict, total=False):
    """One event of GET /v1/events as the log holds it: digests and names, never content."""

    v: int
    id: str
    time: str
    kind: str
    actor: dict[str, str]
    request: dict[str, str]
    outcome: dict[str, str]
    detail: dict[str, Any]
