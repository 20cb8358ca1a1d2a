"""The hot-path header validator accepts exactly what the documented marshmallow schema does."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from gateway.crypto import envelope as env
from gateway.crypto.canonical import canonical_json
from gateway.crypto.errors import EnvelopeMalformed, UnsupportedVersion
from tests.crypto.factories import signal_envelope

VALID: dict[str, Any] = signal_envelope().header.to_json()
PATHS = [
    ("v",),
    ("id",),
    ("flow",),
    ("policy",),
    ("sender",),
    ("sender_key",),
    ("created",),
    ("case",),
    ("subject",),
    ("routing",),
    ("routing", "priority"),
    ("recipients",),
    ("recipients", 0),
    ("recipients", 0, "id"),
    ("recipients", 0, "key"),
    ("recipients", 0, "fields"),
    ("recipients", 0, "fields", 0),
    ("recipients", 1, "id"),
]
junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**60), 2**60),
    st.text(max_size=30),
    st.sampled_from(
        [
            "wonen-limburg\n",
            "a" * 22,
            "c8" * 32,
            "case-0123456789",
            "x",
            "",
            "2026-11-24T12:00:00Z",
            "aaaabbbbccccddddeeeeffff",
            "ABC-def_123",
            "\ud800",
            "é" * 10,
        ]
    ),
    st.lists(st.sampled_from(["a", "b", "surname", "Surname", "a\n"]), max_size=3),
    st.dictionaries(
        st.sampled_from(["priority", "x", "Bad Key"]), st.booleans() | st.integers(), max_size=2
    ),
    st.just(2**53),
    st.just({}),
    st.just([]),
)


def _accepts_fast(doc: Any) -> bool:
    try:
        env._validate_header(doc)
    except (EnvelopeMalformed, UnsupportedVersion):
        return False
    return True


def _accepts_schema(doc: Any) -> bool:
    if isinstance(doc, dict) and type(doc.get("v")) is not int:
        return False  # marshmallow's Integer(strict) would take True as 1; the format does not
    if isinstance(doc, dict) and doc.get("v") != env.VERSION:
        return False
    try:
        env.HeaderSchema().load(doc)
    except ValidationError:
        return False
    return True


def _set(doc: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    target: Any = doc
    for step in path[:-1]:
        target = target[step]
    if isinstance(target, list) and path[-1] >= len(target):
        target.append(value)
    else:
        target[path[-1]] = value


def mutated(changes: list[tuple[tuple[Any, ...], Any]]) -> dict[str, Any] | None:
    """A copy of VALID with ``changes`` applied; None when a path no longer exists after an
    earlier change."""
    doc = copy.deepcopy(VALID)
    for path, value in changes:
        try:
            _set(doc, path, value)
        except (KeyError, IndexError, TypeError):
            return None
    return doc


@settings(max_examples=500)
@given(st.lists(st.tuples(st.sampled_from(PATHS), junk), min_size=1, max_size=3))
def test_fast_validator_agrees_with_schema(changes: list[tuple[tuple[Any, ...], Any]]) -> None:
    doc = mutated(changes)
    if doc is None:
        return
    assert _accepts_fast(doc) == _accepts_schema(doc), doc


def test_valid_header_passes_both() -> None:
    assert _accepts_fast(VALID)
    assert _accepts_schema(VALID)


@pytest.mark.parametrize("key", ["flow", "sender"])
def test_trailing_newline_is_not_a_slug(key: str) -> None:
    doc = copy.deepcopy(VALID)
    doc[key] += "\n"
    assert not _accepts_fast(doc)
    assert not _accepts_schema(doc)


def test_signed_bytes_shortcut_equals_canonical_json() -> None:
    envelope = signal_envelope()
    hashes = {
        k: env.b64u_encode(env.hashlib.sha256(v).digest()) for k, v in envelope.payloads.items()
    }
    expected = env.SIGNATURE_CONTEXT + canonical_json(
        {"header": envelope.header.to_json(), "payloads": hashes}
    )
    assert env._signed_bytes(envelope.header, envelope.payloads) == expected


def test_impossible_created_time_is_malformed_not_a_crash() -> None:
    import pytest

    from gateway.crypto.envelope import _validate_header
    from gateway.crypto.errors import EnvelopeMalformed
    from tests.crypto.factories import signal_envelope

    header = signal_envelope().header.to_json()
    for created in ("2026-11-24T99:00:00Z", "2026-02-30T10:00:00Z"):
        with pytest.raises(EnvelopeMalformed, match="real UTC time"):
            _validate_header({**header, "created": created})


@settings(max_examples=300)
@given(st.lists(st.tuples(st.sampled_from(PATHS), junk), min_size=0, max_size=3))
def test_hand_built_header_bytes_equal_canonical_json(
    changes: list[tuple[tuple[Any, ...], Any]],
) -> None:
    from gateway.crypto.canonical import canonical_json
    from gateway.crypto.envelope import _validate_header, _validated_header_bytes
    from gateway.crypto.errors import EnvelopeError

    doc = mutated(changes)
    if doc is None:
        return
    try:
        header = _validate_header(doc)
    except EnvelopeError:
        return  # only validated headers take the shortcut
    assert _validated_header_bytes(header) == canonical_json(header.to_json())


@given(
    st.dictionaries(
        st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True),
        st.text(max_size=30) | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1),
        max_size=3,
    ),
)
def test_wire_size_is_the_length_of_the_wire_bytes(routing: dict[str, Any]) -> None:
    from gateway.crypto.envelope import _wire_size

    envelope = signal_envelope(routing=routing)
    assert _wire_size(envelope) == len(envelope.to_bytes())


@given(st.dictionaries(st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True), st.binary()))
def test_payload_hashes_equal_the_b64u_of_their_sha256(payloads: dict[str, bytes]) -> None:
    hashes = {k: env.b64u_encode(env.hashlib.sha256(v).digest()) for k, v in payloads.items()}
    assert env._b64u_sha256(b"abc") == env.b64u_encode(env.hashlib.sha256(b"abc").digest()).encode()
    header = signal_envelope().header
    expected = env.SIGNATURE_CONTEXT + canonical_json(
        {"header": header.to_json(), "payloads": hashes}
    )
    assert env._signed_bytes(header, payloads) == expected


@given(
    st.datetimes(
        min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31), timezones=st.timezones()
    )
)
def test_created_text_is_the_strftime_form(moment: datetime) -> None:
    assert env._created_text(moment) == moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
