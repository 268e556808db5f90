"""Canonical JSON (RFC 8785) as the gateway writes it: the cases a naive serialiser gets wrong."""

import pytest

from atomic_sdk.audit import canonical


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (1e-7, "1e-7"),
        (0.000001, "0.000001"),
        (-0.0, "0"),
        (5.0, "5"),
        (2**64, "18446744073709552000"),
        (1 / 3, "0.3333333333333333"),
        (123.456, "123.456"),
    ],
)
def test_numbers_as_ecmascript_writes_them(value, text):
    assert canonical.number(value) == text


def test_keys_sort_by_utf16_code_units_and_strings_escape_as_json_stringify():
    assert canonical.canonicalize({"\uffff": 1, "\U0001F600": 2, "a": [True, None]}) == '{"a":[true,null],"\U0001F600":2,"\uffff":1}'
    assert canonical.string("\u0007\u001f\u007f\u2028é\"\\") == '"\\u0007\\u001f\u007f\u2028é\\"\\\\"'


def test_nan_and_infinity_are_not_json():
    with pytest.raises(canonical.NotJSON):
        canonical.parse("[NaN]")
    assert not canonical.is_canonical('{"b":1,"a":2}')
