"""Tampering as an insider holding the database key would: every change is found and named."""

from __future__ import annotations

import hashlib

import pytest

from gateway.register.log import entry_seal
from gateway.register.verify import RegisterTampered
from gateway.services.register_admin import verify_database
from gateway.store import register as store
from tests.register.conftest import Log, transfer

TRIGGERS = [
    f"register_{table}_no_{op}"
    for table in ("entries", "nodes", "subjects", "checkpoints")
    for op in ("update", "delete")
]


def _insider(log: Log, *statements: tuple[str, tuple[object, ...]]) -> None:
    """Drop the append-only triggers (the DB key allows it) and run the statements."""
    for trigger in TRIGGERS:
        log.conn.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    for sql, params in statements:
        log.conn.execute(sql, params)


@pytest.fixture
def filled(log: Log) -> Log:
    for batch in range(5):
        log.append([transfer(batch * 20 + i) for i in range(20)])
        log.checkpoint()
    return log


def _entry(log: Log, seq: int) -> bytes:
    found = store.entry(log.conn, seq)
    assert found is not None
    return found[1]


def _expect(log: Log, seq: int, match: str) -> None:
    with pytest.raises(RegisterTampered, match=match) as caught:
        verify_database(log.conn, log.register)
    assert caught.value.seq == seq


def test_untouched_register_verifies(filled: Log) -> None:
    report = verify_database(filled.conn, filled.register)
    assert report.entries == 105
    assert report.checkpoints == 5
    assert report.root == filled.register.root(filled.conn, 105)


def test_changed_entry_is_named(filled: Log) -> None:
    data = _entry(filled, 42).replace(b"tenant-name", b"tenant-nama")
    _insider(filled, ("UPDATE register_entries SET entry = ? WHERE seq = 42", (data,)))
    _expect(filled, 42, "Entry 42 was changed")


def test_changed_entry_with_recomputed_hash_is_named_by_its_seal(filled: Log) -> None:
    data = _entry(filled, 42).replace(b"tenant-name", b"tenant-nama")
    leaf = hashlib.sha256(b"\x00" + data).digest()
    _insider(
        filled,
        ("UPDATE register_entries SET entry = ?, leaf_hash = ? WHERE seq = 42", (data, leaf)),
    )
    _expect(filled, 42, "Entry 42 was rewritten")


def test_rewrite_with_the_seal_key_still_breaks_the_signed_checkpoint(filled: Log) -> None:
    # Even an insider who also stole the seal key cannot forge the signed checkpoints.
    data = _entry(filled, 42).replace(b"tenant-name", b"tenant-nama")
    leaf = hashlib.sha256(b"\x00" + data).digest()
    seal = entry_seal(filled.register.seal_key, leaf)
    _insider(
        filled,
        (
            "UPDATE register_entries SET entry = ?, leaf_hash = ?, seal = ? WHERE seq = 42",
            (data, leaf, seal),
        ),
        ("DELETE FROM register_nodes", ()),
    )
    with pytest.raises(RegisterTampered, match="subtree hash|checkpoint"):
        verify_database(filled.conn, filled.register)


def test_deleted_entry_is_named(filled: Log) -> None:
    _insider(filled, ("DELETE FROM register_entries WHERE seq = 30", ()))
    _expect(filled, 30, "Entry 30 is missing")


def test_deleted_tail_is_found_against_the_last_checkpoint(filled: Log) -> None:
    _insider(filled, ("DELETE FROM register_entries WHERE seq >= 100", ()))
    with pytest.raises(RegisterTampered, match="entries from 100 on were deleted|subtree"):
        verify_database(filled.conn, filled.register)


def test_swapped_entries_are_named(filled: Log) -> None:
    rows = {
        seq: filled.conn.execute(
            "SELECT leaf_hash, seal, entry FROM register_entries WHERE seq = ?", (seq,)
        ).fetchone()
        for seq in (10, 11)
    }
    _insider(
        filled,
        *[
            (
                "UPDATE register_entries SET leaf_hash = ?, seal = ?, entry = ? WHERE seq = ?",
                (*rows[other], seq),
            )
            for seq, other in ((10, 11), (11, 10))
        ],
    )
    _expect(filled, 10, "does not name sequence number 10")


def test_inserted_entry_is_named(filled: Log) -> None:
    _insider(
        filled,
        ("DELETE FROM register_entries WHERE seq = 50", ()),
        (
            "INSERT INTO register_entries (seq, stream, event_type, leaf_hash, seal, entry) "
            "VALUES (50, 'processing', 'transfer.accepted', ?, ?, ?)",
            (bytes(32), bytes(32), _entry(filled, 49)),
        ),
    )
    _expect(filled, 50, "Entry 50")


def test_deleted_checkpoint_is_named_by_its_register_entry(filled: Log) -> None:
    _insider(filled, ("DELETE FROM register_checkpoints WHERE size = 41", ()))
    _expect(filled, 41, "checkpoint of size 41 that is missing")


def test_changed_checkpoint_fails_its_signature(filled: Log) -> None:
    _insider(filled, ("UPDATE register_checkpoints SET root = ? WHERE size = 41", (bytes(32),)))
    with pytest.raises(RegisterTampered, match="size 41"):
        verify_database(filled.conn, filled.register)


def test_changed_subtree_hash_is_named(filled: Log) -> None:
    _insider(
        filled, ("UPDATE register_nodes SET hash = ? WHERE level = 4 AND idx = 2", (bytes(32),))
    )
    _expect(filled, 32, "entries 32..47")
