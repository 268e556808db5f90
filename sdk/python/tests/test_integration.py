"""Against a running gateway (test/sdk/sdk.test.ts starts one): skipped unless ATOMIC_SDK_BASE_URL is set.

ATOMIC_SDK_API_KEY has scopes tasks and audit:read, of a tenant of its own; ATOMIC_SDK_APP_KEY only tasks, of the same
tenant (an application, not an auditor); ATOMIC_SDK_PUBLIC_KEY is the path of the
log's public JWK (audit-signing.pub.jwk); ATOMIC_SDK_WEBHOOK_PORT a loopback port on the gateway's webhooks.allow.
"""

import http.server
import json
import os
import queue
import threading
import uuid
from pathlib import Path

import pytest

from atomic_sdk import AuthenticationError, Client, ConflictError, NotFoundError, PermissionDeniedError, VerificationError, verify_checkpoint, verify_receipt, verify_webhook

BASE_URL = os.environ.get("ATOMIC_SDK_BASE_URL")
pytestmark = pytest.mark.skipif(not BASE_URL, reason="ATOMIC_SDK_BASE_URL names no gateway")

TICKET = {"type": "object", "properties": {"title": {"type": "string", "maxLength": 20}, "floor": {"type": "integer", "minimum": 0, "maximum": 9}}, "required": ["title", "floor"]}


@pytest.fixture(scope="module")
def client() -> Client:
    return Client(BASE_URL, os.environ["ATOMIC_SDK_API_KEY"], timeout=60)


@pytest.fixture(scope="module")
def app_client() -> Client:
    return Client(BASE_URL, os.environ["ATOMIC_SDK_APP_KEY"], timeout=60)


@pytest.fixture(scope="module")
def public_key() -> str:
    return Path(os.environ["ATOMIC_SDK_PUBLIC_KEY"]).read_text()


@pytest.fixture(scope="module")
def task(client):
    client.register_schema("ticket", TICKET, description="a facilities ticket")
    return client.run_task("The printer on floor 3 is jammed", schema="ticket", max_tokens=48, temperature=0)


def test_a_task_is_answered_and_its_execution_read(client, task):
    assert task["status"] == "succeeded"
    assert set(task["result"]) == {"title", "floor"}
    assert task["schema"] == {"name": "ticket", "version": 1}
    execution = client.get_execution(task["id"])
    assert (execution["id"], execution["endpoint"], execution["status"]) == (task["id"], "tasks", "succeeded")
    assert execution["model"] == task["model"]


def test_the_tasks_receipt_verifies_offline_in_a_checkpoint_held(client, task, public_key):
    receipt = client.get_audit_receipt(task["id"], wait=20)
    verified = verify_receipt(receipt, public_key)
    assert (verified.event_id, verified.kind) == (task["id"], "request")
    assert verified.event["request"]["executionId"] == task["id"]

    # The auditor's way: a checkpoint held, then the receipt in exactly that tree.
    held = client.get_audit_checkpoint()
    size = verify_checkpoint(held, public_key).checkpoint.size
    in_held = client.get_audit_receipt(task["id"], tree_size=size)
    assert verify_receipt(in_held, public_key, held_checkpoint=held).held

    # The log holds the gateway's start events too: the proof has a node to change.
    assert in_held["inclusion_proof"]
    tampered = {**in_held, "inclusion_proof": [in_held["root"], *in_held["inclusion_proof"][1:]]}
    with pytest.raises(VerificationError) as refused:
        verify_receipt(tampered, public_key)
    assert refused.value.code == "inclusion_failed"


def test_an_application_without_audit_read_proves_its_own_execution(app_client, task, public_key):
    with pytest.raises(PermissionDeniedError) as refused:
        app_client.get_audit_receipt(task["id"])
    assert refused.value.code == "insufficient_scope"
    receipt = app_client.get_execution_receipt(task["id"], wait=20)
    assert verify_receipt(receipt, public_key).event_id == task["id"]
    size = receipt["tree_size"]
    assert app_client.get_execution_receipt(task["id"], tree_size=size) == receipt
    with pytest.raises(NotFoundError) as unknown:
        app_client.get_execution_receipt(str(uuid.uuid4()))
    assert unknown.value.code == "execution_not_found"


def test_schemas_are_registered_read_and_listed(client, task):
    assert client.get_schema("ticket")["schema"] == TICKET
    assert client.get_schema("ticket", 1)["version"] == 1
    assert "ticket" in [record["name"] for record in client.list_schemas()]
    with pytest.raises(ConflictError) as conflict:
        client.register_schema("ticket", {**TICKET, "required": ["title"]}, version=1)
    assert conflict.value.code == "schema_version_conflict"
    with pytest.raises(NotFoundError) as missing:
        client.get_schema("no-such-schema")
    assert missing.value.code == "schema_not_found"


def test_the_decision_is_read_and_feedback_taken(client, task):
    decision = client.get_decision(task["id"])
    assert decision["executionId"] == task["id"]
    assert [bid["model"] for bid in decision["microtasks"][0]["bids"]] == [task["model"]]
    with pytest.raises(NotFoundError) as unknown:
        client.get_decision(str(uuid.uuid4()))
    assert unknown.value.code == "decision_not_found"
    feedback = client.create_feedback(task["id"], 0.75, comment="right title, wrong floor")
    assert (feedback["object"], feedback["execution_id"]) == ("feedback", task["id"])


def test_events_stream_and_resume_after_the_last_id(client, task):
    with client.events(kinds=["request"]) as stream:
        request = next(event for event in stream if event.json()["id"] == task["id"])
    assert request.event == "request" and request.json()["actor"]["tenant"] == "sdk-python"

    with client.events() as stream:
        events = iter(stream)
        first, second = next(events), next(events)
    assert int(second.id) > int(first.id)
    # A client that reconnects with the last id it received gets what followed it.
    with client.events(last_event_id=first.id) as resumed:
        again = next(iter(resumed))
    assert (again.id, again.event, again.data) == (second.id, second.event, second.data)


class _Receiver(http.server.BaseHTTPRequestHandler):
    deliveries: "queue.Queue[tuple[bytes, dict[str, str]]]" = queue.Queue()

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["content-length"]))
        self.deliveries.put((body, dict(self.headers.items())))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


def test_an_async_task_streams_its_events_and_sends_a_signed_webhook(client, public_key):
    port = int(os.environ["ATOMIC_SDK_WEBHOOK_PORT"])
    server = http.server.HTTPServer(("127.0.0.1", port), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        accepted = client.submit_task("Say hello", max_tokens=8, seed=1, webhook_url=f"http://127.0.0.1:{port}/hook")
        assert (accepted["status"], accepted["mode"]) == ("queued", "async")
        events = list(client.task_events(accepted["id"]))
        assert events[-1].event == "done" and events[-1].json()["status"] == "succeeded"
        assert all(event.event == "progress" for event in events[:-1])
        task = client.get_task(accepted["id"])
        assert task["status"] == "succeeded" and task["decision"]["executionId"] == accepted["id"]

        body, headers = _Receiver.deliveries.get(timeout=30)
        delivery = verify_webhook(body, headers, public_key)
        assert (delivery.task_id, delivery.attempt) == (accepted["id"], 1)
        assert json.loads(body)["type"] == "task.succeeded"
        with pytest.raises(VerificationError) as refused:
            verify_webhook(body + b" ", headers, public_key)
        assert refused.value.code == "body_mismatch"

        with pytest.raises(ConflictError) as ended:
            client.cancel_task(accepted["id"])
        assert ended.value.code == "task_not_running"
    finally:
        server.shutdown()
        server.server_close()


def test_refusals_carry_the_gateways_code(client):
    with pytest.raises(NotFoundError) as missing:
        client.get_task(str(uuid.uuid4()))
    assert missing.value.code == "task_not_found"
    with pytest.raises(AuthenticationError) as refused:
        Client(BASE_URL, "not-a-key").list_schemas()
    assert (refused.value.status, refused.value.code) == (401, "invalid_credentials")
