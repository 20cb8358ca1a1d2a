"""The fast canonical encoder equals RFC 8785 (the rfc8785 package) on restricted values."""

from __future__ import annotations

import json

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from gateway.crypto.canonical import MAX_SAFE_INTEGER, canonical_json, check_restricted
from gateway.crypto.encoding import b64u_decode, b64u_encode
from gateway.crypto.errors import EnvelopeMalformed

text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
restricted = st.recursive(
    st.none() | st.booleans() | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER) | text,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.text(st.characters(max_codepoint=127), max_size=10), children, max_size=4
        )
    ),
    max_leaves=20,
)


@given(restricted)
def test_fast_encoder_equals_rfc8785(value: object) -> None:
    check_restricted(value)
    assert canonical_json(value) == rfc8785.dumps(value)


@pytest.mark.parametrize(
    "value", [1.5, 2**60, {"é": 1}, {1: 2}, "\ud800", b"bytes", [[[[[[[[[[1]]]]]]]]]]]
)
def test_values_outside_the_restriction_are_refused(value: object) -> None:
    with pytest.raises(EnvelopeMalformed):
        check_restricted(value)


@given(st.binary(max_size=64))
def test_base64url_round_trip(data: bytes) -> None:
    assert b64u_decode(b64u_encode(data)) == data


@pytest.mark.parametrize("text", ["a=", "ab+c", "a", "AB", "!!"])
def test_non_canonical_base64url_is_refused(text: str) -> None:
    with pytest.raises(EnvelopeMalformed):
        b64u_decode(text)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=12,
)


@given(_json)
def test_canonical_json_is_json_dumps_with_its_options(value: object) -> None:
    # The encoder is built once instead of per call; the bytes (or the error) stay dumps'.
    try:
        expected: object = json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        ).encode("utf-8")
    except (ValueError, UnicodeEncodeError) as error:  # NaN, a lone surrogate: both refuse
        expected = type(error)
    try:
        actual: object = canonical_json(value)
    except (ValueError, UnicodeEncodeError) as error:  # the same refusal
        actual = type(error)
    assert actual == expected
