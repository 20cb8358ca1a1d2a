"""The register service on a real encrypted store: appends, proofs, checkpoints, append-only."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
import sqlcipher3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.crypto.note import NoteVerifier
from gateway.register import merkle
from gateway.register.checkpoint import open_checkpoint
from gateway.register.entry import GATEWAY, Event, decode_entry, iso_time
from gateway.register.epochs import pseudonym
from gateway.register.log import RegisterError
from gateway.store import Database, DatabaseKey, transaction
from gateway.store import register as store
from tests.register.conftest import T0, Log, transfer
from tests.register.entry_reference import reference_entry


def test_append_outside_a_transaction_is_refused(log: Log) -> None:
    with pytest.raises(RegisterError, match="inside the transaction"):
        log.register.append(log.conn, [transfer()], now=T0)


def test_stored_tree_matches_recomputed_tree(log: Log) -> None:
    leaves: list[bytes] = []
    for batch in (1, 15, 16, 17, 100, 3):
        leaves += log.append([transfer(len(leaves) + i) for i in range(batch)])
    size = log.register.size(log.conn)
    assert size == len(leaves) == 152
    for n in (1, 15, 16, 31, 32, 33, 100, 152):
        assert log.register.root(log.conn, n) == merkle.root_of(leaves[:n])


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_proofs_from_the_store_verify(log: Log, data: st.DataObject) -> None:
    if log.register.size(log.conn) == 0:
        log.append([transfer(i) for i in range(300)])
    leaves = [bytes(r[1]) for rows in store.iter_entries(log.conn) for r in rows]
    size = data.draw(st.integers(1, len(leaves)))
    index = data.draw(st.integers(0, size - 1))
    root = merkle.root_of(leaves[:size])
    proof = log.register.inclusion_proof(log.conn, index, size)
    merkle.verify_inclusion(leaves[index], index, size, proof, root)
    old = data.draw(st.integers(1, size))
    consistency = log.register.consistency_proof(log.conn, old, size)
    merkle.verify_consistency(old, size, merkle.root_of(leaves[:old]), root, consistency)


def test_a_batch_head_and_proofs_from_memory_equal_those_read_from_the_store(log: Log) -> None:
    """append_batch proves its entries from the hashes it holds; the store-read proofs of the
    same entries (the reference) must be the same bytes, at every shape of old and new tree."""
    done = 0
    for batch in (1, 1, 2, 5, 8, 16, 17, 31, 64, 3, 100, 255, 1, 513, 7):
        with transaction(log.conn):
            appended = log.register.append_batch(
                log.conn, [transfer(done + i) for i in range(batch)], now=T0
            )
            size = log.register.size(log.conn)
            assert appended.size == size == done + batch
            assert appended.root() == log.register.root(log.conn, size)
            seqs = [a.seq for a in appended.appended]
            assert seqs == list(range(done, size))
            reference = log.register.inclusion_proofs(log.conn, seqs, size)
            assert [appended.inclusion_proof(s) for s in seqs] == reference
        done = size
    with pytest.raises(merkle.MerkleProofError):
        appended.inclusion_proof(done - batch - 1)  # not one of this append's entries


@settings(max_examples=40, deadline=None)
@given(old=st.integers(0, 300), new=st.integers(1, 300))
def test_tree_tail_equals_the_whole_tree(old: int, new: int) -> None:
    leaves = [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(old + new)]
    frontier = merkle.Frontier()
    for leaf in leaves[:old]:
        frontier.append(leaf)
    tail = merkle.TreeTail(frontier, leaves[old:])
    root = merkle.root_of(leaves)
    assert tail.root() == root
    for index in range(old, old + new):
        proof = tail.inclusion_proof(index)
        merkle.verify_inclusion(leaves[index], index, old + new, proof, root)


def test_checkpoint_is_a_signed_note_and_is_itself_recorded(log: Log) -> None:
    log.append([transfer(i) for i in range(5)])
    with transaction(log.conn):
        stored = log.register.sign_checkpoint(log.conn, now=T0)
    assert stored is not None
    verifier = NoteVerifier.from_vkey(log.register.verifier.vkey)
    checkpoint = open_checkpoint(stored.note, verifier)
    assert (checkpoint.size, checkpoint.root) == (5, log.register.root(log.conn, 5))
    recorded = decode_entry(store.entry(log.conn, 5)[1])  # type: ignore[index]
    assert recorded["type"] == "checkpoint.signed"
    assert recorded["attributes"] == {"checkpointSize": 5, "checkpointRoot": stored.root.hex()}


def test_no_checkpoint_when_the_log_did_not_grow(log: Log) -> None:
    log.append([transfer()])
    log.checkpoint()
    with transaction(log.conn):
        assert log.register.sign_checkpoint(log.conn, now=T0) is None
    log.append([transfer(2)])
    with transaction(log.conn):
        assert log.register.sign_checkpoint(log.conn, now=T0) is not None


def test_subjects_are_pseudonymous_and_differ_per_month(log: Log) -> None:
    log.append([transfer(1, "contract-42")])
    log.append([transfer(2, "contract-42")], now=T0 + timedelta(days=10))
    first = decode_entry(store.entry(log.conn, 0)[1])  # type: ignore[index]
    second = decode_entry(store.entry(log.conn, 1)[1])  # type: ignore[index]
    assert first["epoch"] == "2026-11"
    assert second["epoch"] == "2026-12"
    assert first["subjects"] != second["subjects"]
    assert b"contract-42" not in store.entry(log.conn, 0)[1]  # type: ignore[index]


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE register_entries SET entry = x'00' WHERE seq = 0",
        "DELETE FROM register_entries WHERE seq = 0",
        "DELETE FROM register_subjects",
        "UPDATE register_subjects SET seq = 1",
        "DELETE FROM register_subject_blocks",
        "UPDATE register_subject_blocks SET seq = 1",
        "UPDATE register_checkpoints SET size = 9",
        "DELETE FROM register_checkpoints",
        "DELETE FROM register_nodes",
    ],
)
def test_store_refuses_to_change_or_delete_register_rows(log: Log, sql: str) -> None:
    log.append([transfer(i) for i in range(16)])
    log.checkpoint()
    with transaction(log.conn):  # a subject row as written before migration 0009
        log.conn.execute(
            "INSERT INTO register_subjects (pseudonym, seq) VALUES (?, 0)", ("ab" * 16,)
        )
    with pytest.raises(sqlcipher3.IntegrityError, match="append-only"):
        log.conn.execute(sql)


def test_subject_index_finds_old_rows_and_new_blocks_and_drops_tag_lookalikes(log: Log) -> None:
    from gateway.services import register_admin

    log.append([transfer(i, f"contract-{i}") for i in range(5000)])  # two index blocks
    key = log.register.keyring.key("2026-11", create=False)
    assert key is not None
    name = pseudonym(key, "contract-4500")
    lookalike = name[:15] + ("0" if name[15] != "0" else "1") + name[16:]  # same 60-bit tag
    with transaction(log.conn):
        store.insert_subjects(log.conn, [(lookalike, 7)])
        # a row of the index as written before migration 0009 (keyed by the whole pseudonym)
        log.conn.execute(
            "INSERT INTO register_subjects (pseudonym, seq) VALUES (?, ?)",
            (pseudonym(key, "contract-3"), 3),
        )
    assert store.seqs_for_pseudonyms(log.conn, [name]) == [7, 4500]
    found = register_admin.subject_access(
        log.conn, log.register, "contract-4500", now=T0, actor=GATEWAY
    )
    assert [e["seq"] for e in found.entries] == [4500]
    found = register_admin.subject_access(
        log.conn, log.register, "contract-3", now=T0, actor=GATEWAY
    )
    assert [e["seq"] for e in found.entries] == [3]


def _append_then_fail(log: Log) -> None:
    with transaction(log.conn):
        log.register.append(log.conn, [transfer()], now=T0)
        raise ZeroDivisionError  # the event's own work fails after the append


def test_failed_event_leaves_no_entry(log: Log) -> None:
    with pytest.raises(ZeroDivisionError):
        _append_then_fail(log)
    assert log.register.size(log.conn) == 0


CHILD = """
import os, signal, sys
from datetime import UTC, datetime
from pathlib import Path
from gateway.crypto import SigningKey
from gateway.register.epochs import EpochKeyring
from gateway.register.log import Register
from gateway.store import Database, DatabaseKey, transaction
from gateway.store.meta import set_meta
from tests.register.conftest import transfer
db = Database(Path(sys.argv[1]), DatabaseKey(b"\\x07" * 32))
conn = db.connect()
register = Register(SigningKey.from_seed(b"\\x01" * 32), "sluis.test/register",
                    EpochKeyring(Path(sys.argv[2])))
conn.execute("BEGIN IMMEDIATE")
set_meta(conn, "event-" + sys.argv[3], "done")
register.append(conn, [transfer()], now=datetime.now(UTC))
if sys.argv[3] == "before-commit":
    os.kill(os.getpid(), signal.SIGKILL)
conn.execute("COMMIT")
os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.parametrize("moment", ["before-commit", "after-commit"])
def test_kill_9_never_leaves_an_event_without_its_entry(
    log: Log, tmp_path: Path, moment: str
) -> None:
    path = tmp_path / "register.db"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), str(log.keys), moment],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    conn = Database(path, DatabaseKey(b"\x07" * 32)).connect()
    try:
        event = conn.execute(
            "SELECT count(*) FROM gateway_meta WHERE name = ?", (f"event-{moment}",)
        ).fetchone()[0]
        entries = store.size(conn)
    finally:
        conn.close()
    assert (event, entries) == ((0, 0) if moment == "before-commit" else (1, 1))


def test_append_stores_exactly_what_the_reference_computes(log: Log) -> None:
    """The batched append (cached entry fragments, one frontier pass) against the plain
    definition: entry bytes, leaf hash, seal, stream and type, subtree hashes, subject rows."""
    events = [transfer(i, f"contract-{i % 7}") for i in range(340)]
    events[3] = replace(events[3], subjects=("a", "b", "a"))
    events[9] = Event("checkpoint.signed", GATEWAY, attributes={"checkpointSize": 3})
    events[11] = replace(events[11], subjects=())
    # 300 entries in one batch: multi-row inserts of 128, 128, 32, 8 and 4 rows
    batches = [events[:1], events[1:17], events[17:18], events[18:40], events[40:]]
    for batch in batches:
        log.append(batch)
    key = log.register.keyring.key("2026-11", create=False)
    assert key is not None
    frontier = merkle.Frontier()
    nodes: list[tuple[int, int, bytes]] = []
    expected_rows = []
    subject_rows: dict[str, set[int]] = {}
    for seq, event in enumerate(events):
        names = tuple(pseudonym(key, s) for s in event.subjects)
        data = reference_entry(event, seq=seq, time=iso_time(T0), epoch="2026-11", pseudonyms=names)
        leaf = hashlib.sha256(b"\x00" + data).digest()
        seal = hashlib.blake2b(leaf, key=log.register.seal_key, digest_size=32).digest()
        expected_rows.append((seq, leaf, seal, data))
        nodes += [n for n in frontier.append(leaf) if n[0] >= store.STORED_NODE_LEVEL]
        for name in names:
            subject_rows.setdefault(name, set()).add(seq)
    stored = [
        (s, bytes(lf), bytes(sl), bytes(d))
        for rows in store.iter_entries(log.conn)
        for s, lf, sl, d in rows
    ]
    assert stored == expected_rows
    assert [
        (lv, i, bytes(h)) for rows in store.iter_nodes(log.conn) for lv, i, h in rows
    ] == sorted(nodes)
    kinds = log.conn.execute(
        "SELECT stream, event_type FROM register_entries ORDER BY seq"
    ).fetchall()
    assert [tuple(k) for k in kinds] == [(e.stream, e.type) for e in events]
    # The store binds blobs as bytearray (cheaper in the driver): they are stored as BLOBs.
    types = log.conn.execute(
        "SELECT DISTINCT typeof(leaf_hash), typeof(seal), typeof(entry) FROM register_entries"
    ).fetchall()
    assert [tuple(t) for t in types] == [("blob", "blob", "blob")]
    node_types = log.conn.execute("SELECT DISTINCT typeof(hash) FROM register_nodes").fetchall()
    assert [tuple(t) for t in node_types] == [("blob",)]
    for name, seqs in subject_rows.items():
        assert store.seqs_for_pseudonyms(log.conn, [name]) == sorted(seqs)


def test_entry_columns_of_different_lengths_insert_nothing(log: Log) -> None:
    leaf = bytes(32)
    with pytest.raises(ValueError, match="zip"), transaction(log.conn):
        store.insert_entry_columns(
            log.conn, 0, ["processing"] * 2, ["case.opened"] * 2, [leaf] * 2, [leaf], [b"{}"] * 2
        )
    assert store.size(log.conn) == 0
