"""Every webhook vector of sdk/testdata/vectors.json: deliveries signed as the gateway signs them, and tampered."""

import pytest

from atomic_sdk import VerificationError, verify_webhook
from conftest import by_name, vectors

CASES = vectors("webhooks")


@by_name(CASES)
def test_webhook_vector(case):
    body = case["body"].encode("utf-8")
    verify = lambda: verify_webhook(body, case["headers"], case["keys"], tolerance_seconds=case["tolerance_seconds"], now=case["now"])  # noqa: E731
    expect = case["expect"]
    if not expect["ok"]:
        with pytest.raises(VerificationError) as refused:
            verify()
        assert refused.value.code == expect["code"], refused.value.reason
        return
    delivery = verify()
    assert (delivery.task_id, delivery.attempt, delivery.iat) == (expect["task_id"], expect["attempt"], expect["iat"])


def test_headers_are_matched_whatever_their_case():
    case = next(case for case in CASES if case["name"] == "valid")
    headers = {name.upper(): value for name, value in case["headers"].items()}
    assert verify_webhook(case["body"].encode(), headers, case["keys"], now=case["now"]).task_id == case["expect"]["task_id"]


def test_a_key_given_only_as_retired_verifies_no_delivery():
    case = next(case for case in CASES if case["name"] == "valid")
    other = next(case for case in CASES if case["name"] == "valid after a rotation: the second key signed")["keys"][0]
    [key] = case["keys"]
    verify = lambda keys: verify_webhook(case["body"].encode(), case["headers"], keys, now=case["now"])  # noqa: E731
    # The gateway signs each delivery with its current key when it sends it: a retired key signs none, whatever its bound.
    with pytest.raises(VerificationError) as alone:
        verify([{"key": key, "retired_at": 5}])
    assert alone.value.code == "key_invalid"
    assert "every key given is retired" in alone.value.reason
    with pytest.raises(VerificationError) as beside:
        verify([{"key": key, "retired_at": 5}, other])
    assert beside.value.code == "signature_invalid"
    assert "not used for webhooks" in beside.value.reason
    # The same key given without a bound verifies it, beside a retired one too.
    assert verify([key]).task_id == case["expect"]["task_id"]
    assert verify([{"key": other, "retired_at": 5}, key]).task_id == case["expect"]["task_id"]
