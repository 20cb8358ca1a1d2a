"""Property tests on the three parsers that read what others wrote: the envelope parser, the
landlord's signal list and the policy folder. Whatever the input, each raises only its own typed
error. tests/client/test_spreadsheet.py already feeds arbitrary bytes and cells to the list
reader; these add structure-aware mutations of real inputs (the shipped example list, a real
envelope, the shipped policy) that get past the first checks and into the deeper ones."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.client.input_errors import SpreadsheetError
from gateway.client.spreadsheet import read_signal_list
from gateway.crypto.canonical import canonical_json
from gateway.crypto.envelope import parse_envelope, seal
from gateway.crypto.errors import EnvelopeError
from gateway.crypto.keys import PartnerKeyPair
from gateway.policy import Policy, load_policy
from gateway.policy.errors import PolicyInvalid
from tests.conftest import POLICY_DIR

EXAMPLE_LIST = POLICY_DIR.parent / "examples" / "huurachterstand-wonen-limburg-2026-11.csv"
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
BOUNDED = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)


def _envelope() -> dict[str, Any]:
    sender, recipient = PartnerKeyPair.generate("wonen-limburg"), PartnerKeyPair.generate("amw")
    return seal(
        sender,
        flow="arrears-signal",
        policy_version="ab" * 32,
        projections={recipient.partner: (recipient.public, {"surname": "Jansen", "amount": 3})},
        created=NOW,
        subject_ref="subject-0001",
    ).to_json()


ENVELOPE = _envelope()


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(doc, dict):
        for key, value in doc.items():
            found.extend(_paths(value, (*prefix, key)))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            found.extend(_paths(value, (*prefix, index)))
    return found


PATHS = [p for p in _paths(ENVELOPE) if p]


def _replace(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    if isinstance(doc, dict) and path[0] in doc:
        copy: Any = dict(doc)
    elif isinstance(doc, list) and isinstance(path[0], int) and path[0] < len(doc):
        copy = list(doc)
    else:  # an earlier change replaced this part: nothing left to change here
        return doc
    copy[path[0]] = _replace(copy[path[0]], path[1:], value)
    return copy


@BOUNDED
@given(st.binary(max_size=3000))
def test_envelope_parser_on_arbitrary_bytes_raises_only_envelope_errors(data: bytes) -> None:
    with contextlib.suppress(EnvelopeError):
        parse_envelope(data)


@BOUNDED
@given(st.lists(st.tuples(st.sampled_from(PATHS), json_values), min_size=1, max_size=3))
def test_envelope_parser_on_a_real_envelope_with_changed_parts(
    changes: list[tuple[tuple[Any, ...], Any]],
) -> None:
    doc: Any = ENVELOPE
    for path, value in changes:
        doc = _replace(doc, path, value)
    for data in (canonical_json(doc), repr(doc).encode()):
        with contextlib.suppress(EnvelopeError):
            parse_envelope(data)


def _mutated(data: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    for at, cut, insert in edits:
        at %= len(data) + 1
        data = data[:at] + insert + data[at + cut :]
    return data


edits = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=20000),
        st.integers(min_value=0, max_value=40),
        st.binary(max_size=12) | st.sampled_from([b";", b'"', b"\r\n", b"\n", b"\x00", b"\xff"]),
    ),
    min_size=1,
    max_size=6,
)


@BOUNDED
@given(edits)
def test_signal_list_reader_on_a_mutated_real_list_raises_only_spreadsheet_errors(
    weert: Policy, changes: list[tuple[int, int, bytes]]
) -> None:
    import io

    data = _mutated(EXAMPLE_LIST.read_bytes(), changes)
    try:
        sheet = read_signal_list(
            io.BytesIO(data), weert, now=NOW, landlord_id="wonen-limburg", secret=b"\x01" * 32
        )
        with sheet:
            for _ in sheet:
                pass
    except SpreadsheetError:
        pass


POLICY_FILES = sorted(
    str(p.relative_to(POLICY_DIR)) for p in POLICY_DIR.rglob("*.yaml") if p.is_file()
)
yaml_noise = (
    st.sampled_from(
        [
            b"",
            b":",
            b"- ",
            b"  ",
            b"\t",
            b"{",
            b"[",
            b"]",
            b"&a",
            b"*a",
            b"!!python/object:os.system",
            b"~",
            b"null",
            b"yes",
            b"1e400",
            b"-1",
            b"'",
            b'"',
            b"\n",
            b"#",
            b"? ",
            b"<<: *a",
            b"\xff",
        ]
    )
    | st.binary(max_size=8)
    | st.text(max_size=10).map(str.encode)
)


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.sampled_from(POLICY_FILES),
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=100000), st.integers(0, 30), yaml_noise),
        min_size=1,
        max_size=5,
    ),
    st.booleans(),
)
def test_policy_loader_on_a_mutated_policy_raises_only_policy_invalid(
    name: str, changes: list[tuple[int, int, bytes]], line_wise: bool
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "policy"
        shutil.copytree(POLICY_DIR, folder)
        target = folder / name
        data = target.read_bytes()
        if line_wise:  # drop or duplicate whole lines: keeps the YAML, breaks the meaning
            lines = data.splitlines(keepends=True)
            for at, cut, _ in changes:
                at %= len(lines)
                lines = lines[:at] + lines[at : at + 1] * (cut % 3) + lines[at + 1 :]
            data = b"".join(lines)
        else:
            data = _mutated(data, changes)
        target.write_bytes(data)
        with contextlib.suppress(PolicyInvalid):
            load_policy(folder)


def test_policy_file_with_a_control_character_is_a_policy_problem_not_a_crash(
    tmp_path: Path,
) -> None:
    # Found by the test above: PyYAML's reader refused the character as the loader was made,
    # before the parser's own error handling.
    folder = tmp_path / "policy"
    shutil.copytree(POLICY_DIR, folder)
    (folder / "covenant.yaml").write_bytes(b"\x00" + (folder / "covenant.yaml").read_bytes())
    with pytest.raises(PolicyInvalid, match="not valid YAML"):
        load_policy(folder)
