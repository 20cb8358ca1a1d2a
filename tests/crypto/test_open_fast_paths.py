"""The fast paths of opening accept exactly what the reference accepts, with the same result.

Each fast path only ever accepts: on anything it does not recognise it hands over to the
reference, so every refusal (and its typed error) is the reference's. What these tests pin is
the other half: whatever a fast path accepts, the reference accepts too, with equal values; and
the canonical spelling a sealer writes does take the fast path.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.crypto import envelope as env
from gateway.crypto.errors import EnvelopeError
from tests.crypto.factories import signal_envelope

ENTRY = env.RecipientEntry(
    "gemeente-weert-intake", "abcdefghijklmnopqrstuvwx", ("a", "arrears", "b_2", "surname")
)
BOUND = "Xy-_" * 10 + "abc"

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**54), 2**54),
    st.text(max_size=12),
    st.sampled_from(["\ud800", "é", '"', "\\", "\n", "\u2028", "1424.90"]),
)
values = st.one_of(
    scalars,
    st.floats(allow_nan=True),
    st.lists(scalars, max_size=2),
    st.dictionaries(st.sampled_from(["a", "x"]), scalars, max_size=2),
)
names = st.sampled_from([*ENTRY.fields, "other", "A"])


def _typed(value: Any) -> Any:
    """A comparison key that tells True from 1 and 1 from 1.0 (== does not)."""
    if isinstance(value, dict):
        return tuple((k, _typed(v)) for k, v in value.items())
    if isinstance(value, list):
        return ("list", tuple(_typed(v) for v in value))
    return (type(value).__name__, value)


def _reference(plaintext: bytes) -> Any:
    try:
        return ("accepted", _typed(env._projection(plaintext, BOUND, ENTRY)))
    except EnvelopeError as error:
        return ("refused", type(error), str(error))


def _spell(document: dict[str, Any], *, canonical: bool, compact: bool, ascii_: bool) -> bytes:
    if canonical:
        text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    else:
        separators = (",", ":") if compact else (", ", ": ")
        text = json.dumps(document, separators=separators, ensure_ascii=ascii_)
    return text.encode("utf-8", "surrogatepass")


binding = st.fixed_dictionaries(
    {
        "header": st.sampled_from([BOUND, BOUND[:-1] + "d"]),
        "key": st.sampled_from([ENTRY.key_id, "a" * 24]),
        "recipient": st.sampled_from([ENTRY.partner, "amw-midden-limburg"]),
    },
)
plain = st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(max_size=12)
projections = st.one_of(
    st.fixed_dictionaries({n: plain for n in ENTRY.fields}),
    st.fixed_dictionaries({n: scalars for n in ENTRY.fields}),
    st.fixed_dictionaries({n: values for n in ENTRY.fields}),
    st.dictionaries(names, values, max_size=6),
)


@settings(max_examples=1000)
@given(
    st.just({"header": BOUND, "key": ENTRY.key_id, "recipient": ENTRY.partner})
    | binding
    | binding.map(lambda b: {**b, "extra": 1}),
    projections,
    st.booleans(),
    st.booleans(),
    st.booleans(),
    st.just([]) | st.lists(st.tuples(st.integers(0, 10**6), st.binary(max_size=3)), max_size=2),
    st.sampled_from(["", "", "", "", "dup-field", "dup-top", "float", "trailing", "bom"]),
)
def test_fast_projection_accepts_only_what_the_reference_accepts(
    bind: dict[str, Any],
    fields: dict[str, Any],
    canonical: bool,
    compact: bool,
    ascii_: bool,
    splices: list[tuple[int, bytes]],
    twist: str,
) -> None:
    plaintext = _spell(
        {"binding": bind, "fields": fields}, canonical=canonical, compact=compact, ascii_=ascii_
    )
    if twist == "dup-field":
        plaintext = plaintext.replace(b'"fields":{', b'"fields":{"a":1,', 1)
    elif twist == "dup-top":
        plaintext = plaintext[:-1] + b',"fields":{}}'
    elif twist == "float":
        plaintext = plaintext.replace(b'"fields":{', b'"fields":{"a":1.0,', 1)
    elif twist == "trailing":
        plaintext += b" "
    elif twist == "bom":
        plaintext = b"\xef\xbb\xbf" + plaintext
    for at, inserted in splices:
        at %= len(plaintext) + 1
        plaintext = plaintext[:at] + inserted + plaintext[at + len(inserted) :]
    fast = env._canonical_projection(plaintext, BOUND.encode(), ENTRY)
    reference = _reference(plaintext)
    if fast is not None:
        assert ("accepted", _typed(fast)) == reference
    elif canonical and not twist and not splices:
        # The sealer's own spelling: refused by the reference, or else taken by the fast path.
        assert reference[0] == "refused", reference


@given(st.fixed_dictionaries({n: scalars for n in ENTRY.fields}))
def test_sealed_spelling_takes_the_fast_path(fields: dict[str, Any]) -> None:
    document = {"binding": {"header": BOUND, "recipient": ENTRY.partner, "key": ENTRY.key_id}}
    document["fields"] = fields
    plaintext = _spell(document, canonical=True, compact=True, ascii_=False)
    fast = env._canonical_projection(plaintext, BOUND.encode(), ENTRY)
    reference = _reference(plaintext)
    if reference[0] == "refused":
        assert fast is None  # e.g. a lone surrogate, a number beyond 2**53
    else:
        assert fast is not None
        assert ("accepted", _typed(fast)) == reference


def test_made_equals_the_constructor() -> None:
    header = signal_envelope().header
    values = {f: getattr(header, f) for f in env.Header.__dataclass_fields__}
    assert env._made(env.Header, values) == env.Header(**values)
    assert repr(env._made(env.Header, values)) == repr(env.Header(**values))
