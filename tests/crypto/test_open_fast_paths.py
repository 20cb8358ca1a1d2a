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
    header = env._validate_header(VALID)
    values = {f: getattr(header, f) for f in env.Header.__dataclass_fields__}
    assert env._made(env.Header, values) == env.Header(**values)
    assert repr(env._made(env.Header, values)) == repr(env.Header(**values))


# --- the wire form: _canonical_envelope and _canonical_header against _parse_reference ---------

from gateway.crypto.canonical import canonical_json  # noqa: E402
from gateway.crypto.errors import EnvelopeTooLarge, UnsupportedVersion  # noqa: E402
from tests.crypto.factories import AMW, DIRECTOR, INTAKE, LANDLORD, NOW  # noqa: E402
from tests.crypto.test_header_validation import PATHS, VALID, junk, mutated  # noqa: E402

PARTNERS = {p.partner: p for p in (INTAKE, AMW, DIRECTOR)}
field_names = st.lists(
    st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True), min_size=1, max_size=4
)
routing_values = st.one_of(
    st.booleans(),
    st.integers(-(2**53) + 1, 2**53 - 1),
    st.text(max_size=12),
    st.sampled_from(['"', "\\", "\n", "\x1f", "é", "\u2028", "}", '},"sender":"x"']),
)


@st.composite
def sealed_envelopes(draw: st.DrawFn) -> bytes:
    chosen = draw(st.lists(st.sampled_from(sorted(PARTNERS)), min_size=1, max_size=3, unique=True))
    projections = {
        p: (PARTNERS[p].public, {n: draw(scalars_ok) for n in draw(field_names)}) for p in chosen
    }
    envelope = env.seal(
        LANDLORD,
        flow=draw(st.sampled_from(["referral-to-amw", "signal", "a"])),
        policy_version="c8" * 32,
        projections=projections,
        created=NOW,
        case_ref=draw(st.none() | st.just("case-0123456789")),
        subject_ref=draw(st.none() | st.just("subj-abcdefghijkl")),
        routing=draw(
            st.dictionaries(
                st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True), routing_values, max_size=3
            )
        ),
    )
    return envelope.to_bytes()


scalars_ok = st.none() | st.booleans() | st.integers(-100, 100) | st.text(max_size=8)
edits = st.sampled_from(
    [
        (b'"v":1}', b'"v":2}'),
        (b'"v":1}', b'"v":1.0}'),
        (b'"v":1}', b'"v":true}'),
        (b'{"header":{', b'{"header":{"case":null,'),
        (b',"payloads":{', b', "payloads":{'),
        (b'"routing":{', b'"routing":{"a":1,'),
        (b'"routing":{', b'"routing": {'),
        (b'"fields":["', b'"fields":["a","'),
        (b'"signature":"', b'"signature":"A'),
        (b'"}', b'="}'),
        (b'"}', b'" }'),
        (b'"priority":true', b'"priority":1'),
        (b'\\"', b"\\u0022"),
        (b"\\n", b"\\u000a"),
        (b"\\u001f", b"\\u001F"),
        (b"-", b"+"),
        (b"_", b"/"),
        (b"},{", b"},{},{"),
        (b'"recipients":[{', b'"recipients":[{"x":1,'),
        (b'"case":null', b'"case":"case-0123456789"'),
    ]
)


def _parse_outcome(data: bytes) -> Any:
    try:
        envelope = env._parse_reference(data, env.MAX_ENVELOPE_BYTES)
    except (EnvelopeError, EnvelopeTooLarge, UnsupportedVersion) as error:
        return ("refused", type(error), str(error))
    return ("accepted", envelope)


def _check_against_reference(data: bytes) -> env.Envelope | None:
    fast = env._canonical_envelope(data, env.MAX_ENVELOPE_BYTES)
    if fast is not None:
        outcome = _parse_outcome(data)
        assert outcome[0] == "accepted", outcome
        reference = outcome[1]
        assert fast == reference
        assert _typed(dict(fast.header.routing)) == _typed(dict(reference.header.routing))
        assert fast.header.canonical_bytes == reference.header.canonical_bytes
        assert fast.to_bytes() == data == reference.to_bytes()
        assert fast.header.created_at() == reference.header.created_at()
    return fast


@settings(max_examples=250, deadline=None)
@given(
    sealed_envelopes(),
    st.lists(st.tuples(edits, st.integers(0, 3)), max_size=2),
    st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, 255)), max_size=2),
)
def test_fast_wire_parse_accepts_only_what_the_reference_accepts(
    data: bytes, changes: list[tuple[tuple[bytes, bytes], int]], flips: list[tuple[int, int]]
) -> None:
    pristine = data
    for (old, new), nth in changes:
        parts = data.split(old)
        if len(parts) > 1:
            at = nth % (len(parts) - 1)
            data = old.join(parts[: at + 1]) + new + old.join(parts[at + 1 :])
    changed = bytearray(data)
    for index, flip in flips:
        changed[index % len(changed)] ^= flip
    data = bytes(changed)
    fast = _check_against_reference(data)
    if data == pristine:
        assert fast is not None  # what seal writes takes the fast path


@settings(max_examples=500)
@given(st.lists(st.tuples(st.sampled_from(PATHS), junk), min_size=0, max_size=3))
def test_fast_header_text_accepts_only_valid_canonical_headers(
    changes: list[tuple[tuple[Any, ...], Any]],
) -> None:
    doc = mutated(changes)
    if doc is None:
        return
    try:
        text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        text.encode("utf-8")
    except (TypeError, ValueError):  # not JSON text at all: nothing to parse
        return
    fast = env._canonical_header(text)
    try:
        reference = env._validate_header(json.loads(text))
    except EnvelopeError:
        assert fast is None
        return
    canonical = env._validated_header_bytes(reference).decode("utf-8") == text
    assert (fast is not None) == canonical
    if fast is not None:
        assert fast == reference
        assert _typed(dict(fast.routing)) == _typed(dict(reference.routing))
        assert canonical_json(fast.to_json()) == text.encode("utf-8")


@settings(max_examples=100, deadline=None)
@given(sealed_envelopes())
def test_envelope_from_json_writes_the_canonical_bytes(data: bytes) -> None:
    # The gateway's path: an envelope embedded in an API batch arrives as a decoded object.
    document = json.loads(data)
    envelope = env.envelope_from_json(document)
    assert envelope.to_bytes() == data == canonical_json(document)
    assert envelope.to_bytes() == canonical_json(envelope.to_json())
    assert envelope.header.canonical_bytes == canonical_json(envelope.header.to_json())


def test_a_long_refused_text_is_not_remembered() -> None:
    """A hostile peer's oversized routing or recipient text goes to the reference uncached."""
    env._canonical_routing.cache_clear()
    env._recipient_text.cache_clear()
    valid = canonical_json(VALID).decode("utf-8")
    long_routing = valid.replace('"routing":{', '"routing":{"x":"' + "a" * 40_000 + '",', 1)
    long_recipient = valid.replace('"fields":["', '"fields":["' + "a" * 40_000 + '","', 1)
    assert long_routing != valid != long_recipient
    assert env._canonical_header(long_routing) is None
    assert env._canonical_routing.cache_info().currsize == 0
    assert env._canonical_header(long_recipient) is None
    assert env._canonical_routing.cache_info().currsize == 1  # the valid, short routing text
    assert env._recipient_text.cache_info().currsize == 0
