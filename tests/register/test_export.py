"""The AP export: written whole or not at all, verified offline, and every edit is named."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.crypto.note import NoteVerifier
from gateway.errors import InvalidRequest
from gateway.policy import Policy
from gateway.register.entry import operator
from gateway.register.export import ExportInvalid, verify_export, write_export
from gateway.services import register_admin
from tests.register.conftest import T0, Log, transfer

NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))
FG = operator("fg-weert")


def _export(log: Log, policy: Policy, out: Path, fmt: str = "json", **kw: object) -> Path:
    write_export(
        log.conn,
        log.register,
        policy,
        period=kw.get("period", NOVEMBER),  # type: ignore[arg-type]
        fmt=fmt,
        out=out,
        now=kw.get("now", T0),  # type: ignore[arg-type]
        actor=FG,
    )
    return out


@pytest.fixture
def busy(log: Log) -> Log:
    log.append([transfer(i) for i in range(10)], now=T0 - timedelta(days=40))  # October
    log.append([transfer(10 + i) for i in range(25)])  # November
    return log


@pytest.mark.parametrize("fmt", ["json", "csv", "pdf"])
def test_export_of_a_period_verifies_offline(
    busy: Log, weert: Policy, tmp_path: Path, fmt: str
) -> None:
    out = _export(busy, weert, tmp_path / f"ap-{fmt}", fmt)
    report = verify_export(out, pinned=busy.register.verifier)
    assert (report.first, report.end, report.size) == (10, 35, 35)  # the November entries
    assert {p.name for p in out.iterdir()} >= {
        f"art30.{fmt}",
        f"processing-log.{fmt}",
        "entries.jsonl",
        "checkpoint.txt",
        "tree.json",
        "consistency.json",
        "verifier.txt",
        "MANIFEST.txt",
    }
    assert busy.register.size(busy.conn) == 37  # checkpoint.signed and export.made recorded


def test_csv_log_is_for_dutch_spreadsheets(busy: Log, weert: Policy, tmp_path: Path) -> None:
    data = (_export(busy, weert, tmp_path / "ap", "csv") / "processing-log.csv").read_bytes()
    assert data.startswith("\ufeff".encode())
    assert b"\r\n" in data
    header = data.decode("utf-8-sig").split("\r\n")[0].split(";")
    assert header[:4] == ["volgnummer", "tijdstip (UTC)", "stroom", "gebeurtenis"]


@pytest.mark.parametrize(
    "name", ["entries.jsonl", "tree.json", "consistency.json", "art30.json", "processing-log.json"]
)
def test_edited_file_is_named(busy: Log, weert: Policy, tmp_path: Path, name: str) -> None:
    out = _export(busy, weert, tmp_path / "ap")
    path = out / name
    path.write_bytes(path.read_bytes() + b" ")
    with pytest.raises(ExportInvalid, match=name):
        verify_export(out)


def test_added_or_removed_file_is_named(busy: Log, weert: Policy, tmp_path: Path) -> None:
    out = _export(busy, weert, tmp_path / "ap")
    (out / "extra.csv").write_text("x")
    with pytest.raises(ExportInvalid, match="extra.csv"):
        verify_export(out)
    (out / "extra.csv").unlink()
    (out / "tree.json").unlink()
    with pytest.raises(ExportInvalid, match="tree.json"):
        verify_export(out)


def test_export_signed_by_another_gateway_is_refused(
    busy: Log, weert: Policy, tmp_path: Path
) -> None:
    from gateway.crypto import SigningKey

    out = _export(busy, weert, tmp_path / "ap")
    other = NoteVerifier(busy.register.origin, SigningKey.from_seed(b"\x09" * 32).public_key)
    with pytest.raises(ExportInvalid, match="pinned"):
        verify_export(out, pinned=other)


def test_manifest_re_signed_with_edited_entries_is_caught_by_the_checkpoint(
    busy: Log, weert: Policy, tmp_path: Path
) -> None:
    # Someone with the gateway key re-signs the manifest after editing an entry: the signed
    # checkpoint (taken at export time) no longer matches the recomputed tree.
    import hashlib

    out = _export(busy, weert, tmp_path / "ap")
    entries = out / "entries.jsonl"
    entries.write_bytes(entries.read_bytes().replace(b"tenant-name", b"tenant-nama", 1))
    files = sorted(p for p in out.iterdir() if p.name != "MANIFEST.txt")
    manifest = "".join(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}\n" for p in files)
    (out / "MANIFEST.txt").write_text(busy.register.sign_note(manifest))
    with pytest.raises(ExportInvalid, match="do not lead to the signed tree head"):
        verify_export(out)


def test_consecutive_exports_are_consistent(busy: Log, weert: Policy, tmp_path: Path) -> None:
    first = _export(busy, weert, tmp_path / "one")
    busy.append([transfer(100 + i) for i in range(7)])
    second = _export(busy, weert, tmp_path / "two")
    report = verify_export(second, previous=first)
    assert report.previous_size == 35
    third = _export(busy, weert, tmp_path / "three")
    with pytest.raises(ExportInvalid, match="previous export"):
        verify_export(third, previous=first)


def test_export_refuses_a_used_folder_and_leaves_nothing_on_error(
    busy: Log, weert: Policy, tmp_path: Path
) -> None:
    used = tmp_path / "used"
    used.mkdir()
    (used / "old.txt").write_text("keep me")
    with pytest.raises(InvalidRequest, match="not an empty folder"):
        _export(busy, weert, used)
    with pytest.raises(InvalidRequest, match="before it starts"):
        _export(busy, weert, tmp_path / "bad", period=(date(2026, 11, 30), date(2026, 11, 1)))
    with pytest.raises(InvalidRequest, match="format"):
        _export(busy, weert, tmp_path / "bad", fmt="xml")
    assert not (tmp_path / "bad").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_period_without_events_still_verifies(busy: Log, weert: Policy, tmp_path: Path) -> None:
    out = _export(busy, weert, tmp_path / "ap", period=(date(2025, 1, 1), date(2025, 1, 31)))
    report = verify_export(out)
    assert report.first == report.end
    assert json.loads((out / "tree.json").read_text())["boundary"]


def test_subject_access_finds_the_subject_and_is_recorded(busy: Log) -> None:
    busy.append([transfer(500, "contract-7"), transfer(501, "contract-8")])
    found = register_admin.subject_access(busy.conn, busy.register, "contract-7", now=T0, actor=FG)
    assert [e["case"] for e in found.entries] == ["case-000500"]
    assert found.entries[0]["recipients"][0]["party"] == "gemeente-weert"
    last = busy.register.size(busy.conn) - 1
    from gateway.register.entry import decode_entry
    from gateway.store import register as store

    recorded = decode_entry(store.entry(busy.conn, last)[1])  # type: ignore[index]
    assert recorded["type"] == "subject-access.queried"
    assert recorded["attributes"] == {"count": 1}


def test_retired_epoch_makes_subjects_unlinkable_and_the_log_still_verifies(
    busy: Log, weert: Policy, tmp_path: Path
) -> None:
    later = T0 + timedelta(days=31 * 85)  # past the 84 months of covenant.yaml
    retired = register_admin.retire_epochs(busy.conn, busy.register, weert, now=later, actor=FG)
    assert retired == ["2026-10", "2026-11"]
    assert busy.register.keyring.epochs() == []
    found = register_admin.subject_access(
        busy.conn, busy.register, "subject-a", now=later, actor=FG
    )
    assert found.entries == ()
    register_admin.verify_database(busy.conn, busy.register)
    assert register_admin.retire_epochs(busy.conn, busy.register, weert, now=later, actor=FG) == []


def _reference_entry_leaves(path: Path, first: int) -> list[bytes]:
    """entries.jsonl read line by line, as the verifier did before reading it in blocks."""
    leaves: list[bytes] = []
    with path.open("rb") as fh:
        for number, line in enumerate(fh):
            data = line.rstrip(b"\n")
            seq = first + number
            if f'"seq":{seq},'.encode() not in data:
                raise ExportInvalid(f"entries.jsonl line {number + 1} is not entry {seq}.")
            leaves.append(hashlib.sha256(b"\x00" + data).digest())
    return leaves


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    first=st.integers(0, 20),
    count=st.integers(0, 12),
    block=st.integers(1, 90),
    ending=st.sampled_from([b"\n", b"", b"\n\n"]),
    damage=st.none() | st.tuples(st.integers(0, 11), st.sampled_from([b"", b"x", b'"seq":1,'])),
)
def test_block_reader_gives_the_line_reader_outcome(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    first: int,
    count: int,
    block: int,
    ending: bytes,
    damage: tuple[int, bytes] | None,
) -> None:
    from gateway.register import export

    lines = [b'{"a":"x","seq":%d,"t":"y"}' % (first + i) for i in range(count)]
    if damage is not None and damage[0] < count:
        lines[damage[0]] = damage[1]
    path = tmp_path / "entries.jsonl"
    path.write_bytes(b"\n".join(lines) + (ending if lines else b""))
    monkeypatch.setattr(export, "_READ_BLOCK", block)

    def outcome(read: Callable[[Path, int], list[bytes]]) -> object:
        try:
            return read(path, first)
        except ExportInvalid as error:
            return error.detail

    assert outcome(export._entry_leaves) == outcome(_reference_entry_leaves)
