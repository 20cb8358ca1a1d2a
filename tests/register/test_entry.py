"""Register entries: canonical bytes (RFC 8785), and the rules that keep values out."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.errors import InvalidRequest
from gateway.register import entry as entry_module
from gateway.register.entry import (
    ATTRIBUTE_KEYS,
    EVENT_TYPES,
    Actor,
    Event,
    EventInvalid,
    RecipientFields,
    decode_entry,
    encode_entries,
    encode_entry,
    operator,
)
from tests.register.conftest import LANDLORD as LANDLORD_ACTOR
from tests.register.conftest import transfer
from tests.register.entry_reference import reference_entry

STAMP = "2026-11-24T09:30:00.000Z"
TOKENS = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,20}", fullmatch=True)


def _encode(event: Event, seq: int = 7, subjects: tuple[str, ...] = ()) -> bytes:
    return encode_entry(event, seq=seq, time=STAMP, epoch="2026-11", pseudonyms=subjects)


@given(
    actor=TOKENS,
    flow=st.none() | TOKENS,
    case=st.none() | TOKENS,
    fields=st.lists(TOKENS, max_size=5),
    attributes=st.dictionaries(
        st.sampled_from(sorted(ATTRIBUTE_KEYS)), TOKENS | st.integers(0, 2**53 - 1), max_size=4
    ),
    seq=st.integers(0, 2**40),
    subjects=st.lists(st.from_regex(r"[0-9a-f]{32}", fullmatch=True), max_size=3),
    kind=st.sampled_from(sorted(EVENT_TYPES)),
)
def test_hand_built_entry_is_exactly_rfc8785(
    actor: str,
    flow: str | None,
    case: str | None,
    fields: list[str],
    attributes: dict[str, str | int],
    seq: int,
    subjects: list[str],
    kind: str,
) -> None:
    event = Event(
        kind,
        Actor("partner", actor),
        flow=flow,
        case=case,
        recipients=(RecipientFields("gemeente-weert", "director", tuple(fields), "art. 3 Wgs"),),
        attributes=attributes,
        subjects=tuple(f"s{i}" for i in range(len(subjects))),
    )
    data = _encode(event, seq, tuple(subjects))
    assert data == rfc8785.dumps(json.loads(data))
    assert data == reference_entry(
        event, seq=seq, time=STAMP, epoch="2026-11", pseudonyms=tuple(subjects)
    )
    assert decode_entry(data)["seq"] == seq


def test_entry_holds_names_and_references_only() -> None:
    data = _encode(transfer(1), subjects=("ab" * 16,))
    entry = decode_entry(data)
    assert entry["recipients"][0]["fields"] == ["arrears-amount", "tenant-name"]
    assert entry["subjects"] == ["ab" * 16]
    assert "subject-a" not in data.decode()  # the reference itself is never stored


def test_processing_event_cannot_name_a_console_user() -> None:
    with pytest.raises(EventInvalid, match="no user identity"):
        _encode(replace(transfer(), actor=Actor("user", "piet")))


@pytest.mark.parametrize(
    "change",
    [
        {"flow": 'signal","seq":1'},
        {"case": "zaak met spaties"},
        {"case": "case-1\ncase-2"},
        {"flow": "signal\n"},
        {"message_id": "x" * 300},
        {"policy_version": "not-hex"},
        {"attributes": {"tenantName": "Jansen"}},
        {"attributes": {"count": -1}},
        {"type": "transfer.smuggled"},
        {"outcome": "maybe"},
    ],
    ids=lambda c: next(iter(c)),
)
def test_event_that_could_carry_a_value_or_break_json_is_refused(change: dict[str, object]) -> None:
    with pytest.raises(EventInvalid):
        _encode(replace(transfer(), **change))  # type: ignore[arg-type]


def test_field_names_must_be_tokens() -> None:
    event = replace(
        transfer(),
        recipients=(RecipientFields("gemeente-weert", "director", ("Jan Jansen",)),),
    )
    with pytest.raises(EventInvalid):
        _encode(event)


def test_bad_time_or_pseudonym_is_refused() -> None:
    with pytest.raises(EventInvalid):
        encode_entry(transfer(), seq=1, time="yesterday", epoch="2026-11", pseudonyms=())
    with pytest.raises(EventInvalid):
        _encode(transfer(), subjects=("subject-a",))


def test_operator_names_are_tokens() -> None:
    assert operator("gateway-admin") == Actor("operator", "gateway-admin")
    with pytest.raises(InvalidRequest):
        operator("Piet de Vries")


def test_every_event_type_has_dutch_and_english_meaning() -> None:
    for kind, (stream, en, nl) in EVENT_TYPES.items():
        assert stream in ("processing", "administration"), kind
        assert en
        assert nl
        assert en != nl


def test_decode_refuses_what_is_not_an_entry() -> None:
    with pytest.raises(EventInvalid):
        decode_entry(b"[1]")
    with pytest.raises(EventInvalid):
        decode_entry(b"\xff")


TEXT = TOKENS | st.sampled_from(["", "a b", "a\nb", "x" * 201, "\u00e9", 'q"'])
HEX = st.sampled_from(["c8" * 32, "C8" * 32, "c8", None])
PSEUDONYMS = st.lists(
    st.from_regex(r"[0-9a-f]{32}", fullmatch=True) | st.sampled_from(["ab", "AB" * 16]),
    max_size=3,
)


@given(
    kind=st.sampled_from([*sorted(EVENT_TYPES), "transfer.smuggled"]),
    actor=st.builds(Actor, st.sampled_from(["partner", "user", "gateway", "robot"]), TEXT),
    outcome=st.sampled_from(["success", "refused", "maybe"]),
    texts=st.tuples(*(st.none() | TEXT for _ in range(5))),
    recipients=st.lists(
        st.builds(
            RecipientFields,
            TEXT,
            TEXT,
            st.lists(TEXT, max_size=3).map(tuple),
            st.sampled_from(["", "art. 3 Wgs", " padded", "a\nb"]),
        ),
        max_size=2,
    ).map(tuple),
    hexes=st.tuples(HEX, HEX),
    attributes=st.dictionaries(
        st.sampled_from([*sorted(ATTRIBUTE_KEYS), "tenantName"]),
        TEXT | st.integers(-1, 2**53) | st.booleans(),
        max_size=3,
    ),
    subject_count=st.none() | st.integers(-1, 3),
    seq=st.integers(0, 2**40),
    time=st.sampled_from([STAMP, "yesterday"]),
    epoch=st.sampled_from(["2026-11", None, "2026-1"]),
    pseudonyms=PSEUDONYMS,
)
def test_cached_encoder_matches_the_reference_byte_for_byte_and_error_for_error(
    kind: str,
    actor: Actor,
    outcome: str,
    texts: tuple[str | None, ...],
    recipients: tuple[RecipientFields, ...],
    hexes: tuple[str | None, str | None],
    attributes: dict[str, object],
    subject_count: int | None,
    seq: int,
    time: str,
    epoch: str | None,
    pseudonyms: list[str],
) -> None:
    reason, flow, sender, case, message_id = texts
    event = Event(
        kind,
        actor,
        outcome=outcome,
        reason=reason,
        flow=flow,
        sender=sender,
        recipients=recipients,
        subjects=tuple(f"s{i}" for i in range(len(pseudonyms))),
        subject_count=subject_count,
        case=case,
        policy_version=hexes[0],
        envelope_hash=hexes[1],
        message_id=message_id,
        attributes=attributes,  # type: ignore[arg-type]
    )
    args = {"seq": seq, "time": time, "epoch": epoch, "pseudonyms": tuple(pseudonyms)}
    for _ in range(2):  # the second call takes the cached fragments
        try:
            expected: bytes | str = reference_entry(event, **args)  # type: ignore[arg-type]
        except EventInvalid as error:
            expected = error.detail
        try:
            got: bytes | str = encode_entry(event, **args)  # type: ignore[arg-type]
        except EventInvalid as error:
            got = error.detail
        assert got == expected


def test_cached_encoder_matches_the_reference_for_every_event_the_gateway_writes() -> None:
    events = [
        transfer(1),
        replace(transfer(2), recipients=()),
        Event("checkpoint.signed", Actor("gateway", "sluis"), attributes={"checkpointSize": 9}),
        Event("user.login", Actor("user", "fg-weert")),
        Event("transfer.refused", LANDLORD_ACTOR, outcome="refused", reason="no-rule"),
    ]
    for seq, event in enumerate(events):
        for subjects in ((), ("ab" * 16,), ("ab" * 16, "cd" * 16)):
            args = {"seq": seq, "time": STAMP, "epoch": "2026-11", "pseudonyms": subjects}
            assert encode_entry(event, **args) == reference_entry(event, **args)  # type: ignore[arg-type]


HEX64 = st.binary(min_size=32, max_size=32).map(bytes.hex)
PSEUDONYM = st.binary(min_size=16, max_size=16).map(bytes.hex)
SHARED_RECIPIENTS = (
    RecipientFields("gemeente-weert", "municipality-intake", ("tenant-name",), "art. 3 Wgs"),
)
RULE_BREAKS = [
    {"outcome": "maybe"},
    {"case": "a b"},
    {"flow": "a\nb"},
    {"message_id": "x" * 201},
    {"sender": ""},
    {"envelope_hash": "C8" * 32},
    {"envelope_hash": "c8" * 31 + "\nc"},
    {"policy_version": "c8"},
    {"subject_count": -1},
    {"attributes": {"tenantName": "x"}},
    {"attributes": {"count": -1}},
    {"type": "transfer.smuggled"},
    {"actor": Actor("user", "fg-weert")},
    {"recipients": (RecipientFields("gemeente weert", "director", ()),)},
    {"subjects": ("s",) * 1001},
]


@st.composite
def batch_events(draw: st.DrawFn) -> tuple[Event, tuple[str, ...]]:
    """A valid event (often sharing its head with others) and its pseudonyms."""
    subjects = draw(st.lists(PSEUDONYM, max_size=3).map(tuple))
    event = Event(
        draw(st.sampled_from(["transfer.accepted", "case.moved", "checkpoint.signed"])),
        draw(st.sampled_from([LANDLORD_ACTOR, Actor("gateway", "sluis")])),
        outcome=draw(st.sampled_from(["success", "refused", "error"])),
        reason=draw(st.none() | TOKENS),
        flow=draw(st.none() | TOKENS),
        sender=draw(st.none() | TOKENS),
        recipients=draw(st.sampled_from([(), SHARED_RECIPIENTS])),
        subjects=tuple(f"s{i}" for i in range(len(subjects))),
        subject_count=draw(st.none() | st.integers(0, 3)),
        case=draw(st.none() | TOKENS),
        policy_version=draw(st.none() | HEX64 | st.just("c8" * 32)),
        envelope_hash=draw(st.none() | HEX64),
        message_id=draw(st.none() | TOKENS),
        attributes=draw(
            st.just({})
            | st.dictionaries(st.sampled_from(["count", "state"]), TOKENS | st.integers(0, 9))
        ),
    )
    return event, subjects


def _outcome_of(encode: object) -> list[bytes] | str:
    try:
        return encode()  # type: ignore[operator,no-any-return]
    except EventInvalid as error:
        return error.detail


@settings(max_examples=300)
@given(
    batch=st.lists(batch_events(), max_size=8),
    breaks=st.lists(st.tuples(st.integers(0, 7), st.sampled_from(RULE_BREAKS)), max_size=2),
    bad_pseudonym=st.none() | st.integers(0, 7),
    first_seq=st.integers(0, 2**40),
    time=st.sampled_from([STAMP, STAMP, "yesterday"]),
    epoch=st.sampled_from(["2026-11", "2026-11", None, "2026-1"]),
)
def test_batch_encoder_matches_the_reference_byte_for_byte_and_error_for_error(
    batch: list[tuple[Event, tuple[str, ...]]],
    breaks: list[tuple[int, dict[str, object]]],
    bad_pseudonym: int | None,
    first_seq: int,
    time: str,
    epoch: str | None,
) -> None:
    events = [event for event, _ in batch]
    names = [found for _, found in batch]
    for at, change in breaks if events else []:
        events[at % len(events)] = replace(events[at % len(events)], **change)  # type: ignore[arg-type]
    if bad_pseudonym is not None and names:
        names[bad_pseudonym % len(names)] = ("AB" * 16,)
    _assert_batch_matches_reference(events, names, first_seq=first_seq, time=time, epoch=epoch)


def _assert_batch_matches_reference(
    events: list[Event],
    names: list[tuple[str, ...]],
    *,
    first_seq: int,
    time: str,
    epoch: str | None,
) -> None:
    expected = _outcome_of(
        lambda: [
            reference_entry(e, seq=first_seq + i, time=time, epoch=epoch, pseudonyms=found)
            for i, (e, found) in enumerate(zip(events, names, strict=True))
        ]
    )
    for _ in range(2):  # the second call takes the cached fragments
        got = _outcome_of(
            lambda: encode_entries(
                events, first_seq=first_seq, time=time, epoch=epoch, pseudonyms=names
            )
        )
        assert got == expected


def test_batch_encoder_needs_one_pseudonym_tuple_per_event() -> None:
    with pytest.raises(ValueError, match="one tuple of pseudonyms per event"):
        encode_entries([transfer(1)], first_seq=0, time=STAMP, epoch="2026-11", pseudonyms=[])


@pytest.mark.parametrize("change", RULE_BREAKS, ids=lambda c: repr(c)[:40])
def test_batch_encoder_names_each_broken_rule_at_each_position(change: dict[str, object]) -> None:
    valid = [
        transfer(1),
        transfer(3),  # the same head as the event before it
        Event("checkpoint.signed", Actor("gateway", "sluis"), attributes={"checkpointSize": 9}),
        replace(transfer(2), recipients=(), subject_count=0),
    ]
    names = [("ab" * 16,), ("01" * 16,), (), ("cd" * 16, "ef" * 16)]
    _assert_batch_matches_reference(valid, names, first_seq=5, time=STAMP, epoch="2026-11")
    for at in range(len(valid)):
        events = list(valid)
        events[at] = replace(events[at], **change)  # type: ignore[arg-type]
        _assert_batch_matches_reference(events, names, first_seq=5, time=STAMP, epoch="2026-11")


def test_batch_encoder_sends_a_value_of_the_wrong_type_to_the_event_by_event_path() -> None:
    events = [transfer(1), replace(transfer(2), outcome=["success"])]  # type: ignore[arg-type]
    _assert_batch_matches_reference(events, [(), ()], first_seq=0, time=STAMP, epoch="2026-11")
    with pytest.raises(EventInvalid, match="is not an outcome"):
        encode_entries(events, first_seq=0, time=STAMP, epoch="2026-11", pseudonyms=[(), ()])


def test_batch_encoder_keeps_its_policy_version_cache_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(entry_module, "_HEAD_CACHE_MAX", 4)
    monkeypatch.setattr(entry_module, "_policy_versions", set())
    versions = [f"{i:064x}" for i in range(5)]

    def encode(chosen: list[str]) -> None:
        events = [replace(transfer(i), policy_version=v) for i, v in enumerate(chosen)]
        _assert_batch_matches_reference(
            events, [()] * len(events), first_seq=0, time=STAMP, epoch="2026-11"
        )

    encode(versions[:3])
    assert entry_module._policy_versions == set(versions[:3])
    encode(versions[3:])  # 3 + 2 > 4: the cache starts again
    assert entry_module._policy_versions == set(versions[3:])
