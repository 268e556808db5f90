"""Keys after a rotation: each retired key carries where it was retired (retired_at), and a retired key's checkpoint
past that bound is refused, in receipts (the shared vectors hold the verdicts) and in checkpoints alike."""

import json

import pytest

from atomic_sdk import VerificationError, trusted_keys, verify_checkpoint, verify_receipt
from conftest import vectors

CASES = {case["name"]: case for case in vectors("receipts")}
VALID = CASES["valid"]
RECEIPT = VALID["receipt"]
KEY = VALID["keys"][0]
# The vectors' other key of the same log name: the one given besides it "after a rotation".
OTHER = CASES["two keys without a bound"]["keys"][0]


def refused(verify) -> VerificationError:
    with pytest.raises(VerificationError) as error:
        verify()
    return error.value


def test_a_retired_key_given_as_a_public_key_or_as_json_is_held_to_its_bound():
    key, other = trusted_keys([KEY, OTHER])
    assert verify_receipt(RECEIPT, [key.retired(RECEIPT["tree_size"]), other]).tree_size == RECEIPT["tree_size"]
    past = refused(lambda: verify_receipt(RECEIPT, [key.retired(RECEIPT["tree_size"] - 1), other]))
    assert past.code == "key_retired"
    assert f"you gave it as retired at leaf {RECEIPT['tree_size'] - 1} (retired_at)" in past.reason
    as_text = json.dumps([{"key": KEY, "retired_at": RECEIPT["tree_size"] - 1}, OTHER])
    assert refused(lambda: verify_receipt(RECEIPT, as_text)).code == "key_retired"
    # One key alone, as before a rotation: no bound needed.
    assert verify_receipt(RECEIPT, KEY).key.fingerprint == key.identity.fingerprint


def test_two_keys_without_a_bound_are_refused_rather_than_guessed():
    error = refused(lambda: verify_receipt(RECEIPT, [OTHER, KEY]))
    assert error.code == "key_unbounded"
    assert "give each retired key with retired_at" in error.reason


def test_checkpoints_are_held_to_the_same_rule():
    note = RECEIPT["checkpoint"]
    assert verify_checkpoint(note, KEY).checkpoint.size == RECEIPT["tree_size"]
    assert verify_checkpoint(note, [{"key": OTHER, "retired_at": 3}, KEY]).checkpoint.size == RECEIPT["tree_size"]
    assert refused(lambda: verify_checkpoint(note, [OTHER, KEY])).code == "key_unbounded"
    past = refused(lambda: verify_checkpoint(note, [{"key": KEY, "retired_at": 3}, OTHER]))
    assert past.code == "key_retired"
    assert past.reason.startswith(f"the checkpoint of {RECEIPT['tree_size']} leaves is signed by key ")


def test_a_receipt_of_the_rotation_bounds_the_key_it_retires():
    case = CASES["valid receipt of a key.rotated leaf: it bounds the key it retires"]
    verified = verify_receipt(case["receipt"], case["keys"])
    assert (verified.kind, verified.index) == ("key.rotated", 6)
    past = CASES["key.rotated leaf in a tree the key it retires signed"]
    assert "the key.rotated leaf at index 6 retired it" in refused(lambda: verify_receipt(past["receipt"], past["keys"])).reason


@pytest.mark.parametrize(
    "keys, words",
    [
        ([{"key": KEY, "retiredAt": 3}], "unexpected member 'retiredAt'"),
        ([{"key": KEY, "retired_at": -1}], "retired_at -1 is not a non-negative integer"),
        ([{"key": KEY, "retired_at": True}], "retired_at True is not a non-negative integer"),
        ([{"key": KEY, "retired_at": 3}, {"key": KEY, "retired_at": 3}], "is given with retired_at twice"),
        ([{"key": {**KEY, "d": "AAAA"}, "retired_at": 3}], "private key"),
    ],
)
def test_a_bound_that_is_no_leaf_index_is_refused(keys, words):
    error = refused(lambda: verify_receipt(RECEIPT, keys))
    assert error.code == "key_invalid"
    assert words in error.reason
