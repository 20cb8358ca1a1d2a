"""base64url: strict, canonical, and equal to the reference definition."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.crypto.encoding import b64u_decode, b64u_decode_ascii, b64u_encode
from gateway.crypto.errors import EnvelopeMalformed


@given(st.binary(max_size=200))
def test_round_trip(data: bytes) -> None:
    assert b64u_decode(b64u_encode(data)) == data


@given(st.text(max_size=40))
def test_accepts_exactly_the_canonical_encodings(text: str) -> None:
    try:
        data = b64u_decode(text)
    except EnvelopeMalformed:
        return
    assert b64u_encode(data) == text  # whatever is accepted is the one canonical spelling


@given(
    st.text(
        alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", max_size=40
    )
)
def test_alphabet_strings_decode_iff_canonical(text: str) -> None:
    import base64

    if len(text) % 4 == 1:
        with pytest.raises(EnvelopeMalformed):
            b64u_decode(text)
        return
    reference = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64u_encode(reference) == text:
        assert b64u_decode(text) == reference
    else:
        with pytest.raises(EnvelopeMalformed):
            b64u_decode(text)


@pytest.mark.parametrize("text", ["QUJD+A", "QUJD/A", "QUI=", "QU JD", "QUJD\n", "ÄÄÄÄ", "AB"])
def test_refuses_other_alphabets_padding_spaces_and_stray_bits(text: str) -> None:
    with pytest.raises(EnvelopeMalformed):
        b64u_decode(text)


@given(
    st.dictionaries(
        st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True),
        st.binary(max_size=40).map(b64u_encode),
        max_size=6,
    )
)
def test_flat_object_is_canonical_json(items: dict[str, str]) -> None:
    from gateway.crypto.canonical import canonical_json
    from gateway.crypto.envelope import _flat_object

    assert _flat_object(items) == canonical_json(items)


def test_field_name_with_a_newline_is_not_two_names() -> None:
    from gateway.crypto.envelope import _field_names_ok

    assert _field_names_ok(["amount", "surname"])
    assert not _field_names_ok(["amount\nsurname"])
    assert not _field_names_ok(["amount", 3])
    assert not _field_names_ok(["Amount"])


_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@given(
    st.one_of(
        st.text(max_size=40),
        st.text(alphabet=_ALPHABET, max_size=40),
        st.text(alphabet=_ALPHABET + "+/=\n é\x00", max_size=40),
        st.binary(max_size=40).map(b64u_encode),
    )
)
def test_the_bytes_decoder_agrees_with_the_text_decoder(text: str) -> None:
    try:
        expected: bytes | None = b64u_decode(text)
    except EnvelopeMalformed:
        expected = None
    assert b64u_decode_ascii(text.encode("utf-8")) == expected


@given(st.binary(max_size=40))
def test_the_bytes_decoder_refuses_what_is_not_ascii_base64url(raw: bytes) -> None:
    try:
        expected: bytes | None = b64u_decode(raw.decode("ascii"))
    except (UnicodeDecodeError, EnvelopeMalformed):
        expected = None
    assert b64u_decode_ascii(raw) == expected
