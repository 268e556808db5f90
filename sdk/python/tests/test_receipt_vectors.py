"""Every receipt vector of sdk/testdata/vectors.json: the verdict of Atomic's own TypeScript verifier, reproduced."""

import pytest

from atomic_sdk import VerificationError, verify_receipt
from conftest import by_name, vectors

CASES = vectors("receipts")


def test_the_vectors_hold_valid_and_tampered_receipts():
    codes = {case["expect"].get("code") for case in CASES}
    assert None in codes
    assert {"inclusion_failed", "checkpoint_signature", "tree_mismatch", "leaf_hash_mismatch", "entry_not_canonical", "key_invalid"} <= codes
    # After a key rotation: a retired key past its bound, two keys without one, a rotation leaf without its handover.
    assert {"key_retired", "key_unbounded", "rotation_invalid"} <= codes


@by_name(CASES)
def test_receipt_vector(case):
    expect = case["expect"]
    verify = lambda: verify_receipt(case["receipt"], case["keys"], held_checkpoint=case.get("held_checkpoint"))  # noqa: E731
    if not expect["ok"]:
        with pytest.raises(VerificationError) as refused:
            verify()
        assert refused.value.code == expect["code"], refused.value.reason
        return
    verified = verify()
    assert verified.event_id == expect["event_id"]
    assert verified.kind == expect["kind"]
    assert verified.index == expect["index"]
    assert verified.origin == expect["origin"]
    assert verified.tree_size == expect["tree_size"]
    assert verified.root == expect["root"]
    assert (verified.key.name, verified.key.key_id, verified.key.fingerprint) == (expect["key"]["name"], expect["key"]["key_id"], expect["key"]["fingerprint"])
    assert verified.held == expect["held"]


def test_a_receipt_as_json_text_verifies_as_the_object_does():
    import json

    case = CASES[0]
    assert verify_receipt(json.dumps(case["receipt"]), json.dumps(case["keys"][0])).event_id == case["expect"]["event_id"]
