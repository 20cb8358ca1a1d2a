"""Tampering as an insider holding the database key would: every change is found and named."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.crypto import SigningKey
from gateway.register import verify
from gateway.register.epochs import EpochKeyring
from gateway.register.log import Register, entry_seal
from gateway.register.verify import CheckpointClaim, RegisterTampered, VerifyReport, stored_node_map
from gateway.services.register_admin import verify_database
from gateway.store import Database, DatabaseKey, migrate, transaction
from gateway.store import register as store
from tests.register.conftest import T0, Log, transfer
from tests.register.verify_reference import reference_verify

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


# -- the whole-chunk fast path against the entry-by-entry reference ----------------------------

_BUILT: dict[str, object] = {}


def _material(tmp_path_factory: pytest.TempPathFactory) -> tuple[Log, list[Row], list[Claim]]:
    """One register of 150 entries with checkpoints at uneven sizes, built once."""
    if "log" not in _BUILT:
        folder = tmp_path_factory.mktemp("verify-material")
        conn = Database(folder / "r.db", DatabaseKey(b"\x07" * 32)).connect()
        migrate(conn)
        register = Register(
            SigningKey.from_seed(b"\x01" * 32), "sluis.test/register", EpochKeyring(folder)
        )
        log = Log(conn, register, folder)
        for size in (1, 16, 20, 33, 32, 40):
            log.append([transfer(register.size(conn) + i) for i in range(size)])
            log.checkpoint()
        _BUILT["log"] = log
        _BUILT["rows"] = [tuple(r) for rows in store.iter_entries(conn) for r in rows]
        _BUILT["claims"] = [
            CheckpointClaim(c.size, c.root, c.note) for c in store.checkpoints(conn)
        ]
    return _BUILT["log"], _BUILT["rows"], _BUILT["claims"]  # type: ignore[return-value]


Row = tuple[int, bytes, "bytes | None", bytes]
Claim = CheckpointClaim


def _resealed(log: Log, seq: int, data: bytes) -> Row:
    leaf = hashlib.sha256(b"\x00" + data).digest()
    return (seq, leaf, entry_seal(log.register.seal_key, leaf), data)


def _outcome(run: Callable[[], VerifyReport]) -> object:
    try:
        report = run()
    except RegisterTampered as error:
        return ("tampered", error.detail, error.seq)
    except Exception as error:  # noqa: BLE001 - the same crash is the same outcome
        return ("error", type(error).__name__)
    return (
        report.entries,
        report.checkpoints,
        report.nodes,
        report.root,
        report.checkpoint_entries,
    )


TAMPERINGS = [
    "none",
    "entry",
    "entry+leaf",
    "entry+leaf+seal",
    "seal-none",
    "seal-shifted",
    "seal-short",
    "delete",
    "duplicate",
    "swap",
    "seq-marker",
    "seq-float",
    "drop-claim",
    "claim-root",
    "claim-beyond",
    "node-changed",
    "node-missing",
    "checkpoint-entry",
    "checkpoint-json",
]


@pytest.mark.parametrize("sealed", [True, False], ids=["sealed", "unsealed"])
@pytest.mark.parametrize("kind", TAMPERINGS)
@settings(max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    at=st.integers(0, 149),
    other=st.integers(0, 149),
    cuts=st.lists(st.integers(1, 149), max_size=6),
    chunk_level=st.sampled_from([4, 5, 16]),
)
def test_fast_verify_gives_the_reference_outcome(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    at: int,
    other: int,
    cuts: list[int],
    chunk_level: int,
    sealed: bool,
) -> None:
    log, original, original_claims = _material(tmp_path_factory)
    rows: list[Row] = list(original)
    claims = list(original_claims)
    nodes = stored_node_map(store.iter_nodes(log.conn))
    at, other = at % len(rows), other % len(rows)
    seq, leaf, seal, data = rows[at]
    checkpoint_seqs = [r[0] for r in rows if b"checkpoint.signed" in r[3]]
    if kind == "entry":
        rows[at] = (seq, leaf, seal, data.replace(b"tenant-name", b"tenant-nama"))
    elif kind == "entry+leaf":
        changed = data.replace(b"case-", b"case-9")
        rows[at] = (seq, hashlib.sha256(b"\x00" + changed).digest(), seal, changed)
    elif kind == "entry+leaf+seal":
        rows[at] = _resealed(log, seq, data.replace(b"case-", b"case-9"))
    elif kind == "seal-none":
        rows[at] = (seq, leaf, None, data)
    elif kind == "seal-shifted" and at + 1 < len(rows):
        nxt = rows[at + 1]
        rows[at] = (seq, leaf, (seal or b"") + (nxt[2] or b""), data)
        rows[at + 1] = (nxt[0], nxt[1], b"", nxt[3])
    elif kind == "seal-short":
        rows[at] = (seq, leaf, (seal or b"")[:31], data)
    elif kind == "delete":
        del rows[at]
    elif kind == "duplicate":
        rows.insert(at, rows[at])
    elif kind == "swap":
        rows[at], rows[other] = rows[other], rows[at]
    elif kind == "seq-marker":
        rows[at] = _resealed(log, seq, data.replace(b'"seq":', b'"seq":1'))
    elif kind == "seq-float":
        rows[at] = (float(seq), leaf, seal, data)  # type: ignore[assignment]
    elif kind == "drop-claim":
        del claims[at % len(claims)]
    elif kind == "claim-root":
        old = claims[at % len(claims)]
        claims[at % len(claims)] = CheckpointClaim(old.size, bytes(32), old.note)
    elif kind == "claim-beyond":
        claims.append(CheckpointClaim(len(rows) + 5, bytes(32), claims[0].note))
    elif kind == "node-changed":
        key = sorted(nodes)[at % len(nodes)]
        nodes[key] = bytes(32)
    elif kind == "node-missing":
        del nodes[sorted(nodes)[at % len(nodes)]]
    elif kind == "checkpoint-entry":
        target = checkpoint_seqs[at % len(checkpoint_seqs)]
        entry = rows[target][3].replace(b'"checkpointSize":', b'"checkpointSize":1')
        rows[target] = _resealed(log, target, entry)
    elif kind == "checkpoint-json":
        target = checkpoint_seqs[at % len(checkpoint_seqs)]
        rows[target] = _resealed(log, target, rows[target][3][:-1])
    bounds = sorted({0, len(rows), *(c for c in cuts if c < len(rows))})
    chunks = [rows[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
    monkeypatch.setattr(verify, "CHUNK_LEVEL", chunk_level)
    monkeypatch.setattr(verify, "CHUNK", 1 << chunk_level)
    key = log.register.seal_key if sealed else None

    def run(engine: Callable[..., VerifyReport]) -> Callable[[], VerifyReport]:
        return lambda: engine(
            [list(c) for c in chunks],
            verifier=log.register.verifier,
            checkpoints=claims,
            seal_key=key,
            stored_nodes=dict(nodes),
        )

    assert _outcome(run(verify.verify_entries)) == _outcome(run(reference_verify))


def test_checkpoint_signed_while_the_register_was_empty_verifies(log: Log) -> None:
    """A checkpoint of size 0 (the scheduler or an operator signing before the first event)
    claims the empty tree; it used to stay unmatched and read as 'entries were deleted'."""
    with transaction(log.conn):
        log.register.sign_checkpoint(log.conn, now=T0)
    log.append([transfer(i) for i in range(3)])
    report = verify_database(log.conn, log.register)
    assert (report.entries, report.checkpoints) == (4, 1)
    _insider(log, ("UPDATE register_checkpoints SET root = ? WHERE size = 0", (bytes(32),)))
    with pytest.raises(RegisterTampered, match="size 0 differs from its signed note"):
        verify_database(log.conn, log.register)


def test_signed_checkpoint_of_size_0_must_be_the_empty_head(log: Log) -> None:
    from gateway.register.checkpoint import Checkpoint

    log.append([transfer(0)])
    note = Checkpoint(log.register.origin, 0, bytes(32)).sign(SigningKey.from_seed(b"\x01" * 32))
    with pytest.raises(RegisterTampered, match="size 0 does not carry the empty") as caught:
        verify.verify_entries(
            store.iter_entries(log.conn),
            verifier=log.register.verifier,
            checkpoints=[CheckpointClaim(0, bytes(32), note)],
        )
    assert caught.value.seq == 0
