"""Register tables: entries, perfect subtree hashes, subject pseudonyms, signed checkpoints.

Only inserts and reads: the schema's triggers refuse UPDATE and DELETE on all four tables.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import chain

from gateway.store.bulk import blob as _blob
from gateway.store.bulk import insert_flat as _insert_flat
from gateway.store.database import Connection

#: Perfect subtrees from this level up (16 entries) are stored; smaller ones are recomputed.
STORED_NODE_LEVEL = 4
READ_CHUNK = 8192
#: The subject index groups entries in blocks of 2**12 (migration 0009).
SUBJECT_BLOCK_BITS = 12


@dataclass(frozen=True)
class StoredCheckpoint:
    size: int
    root: bytes
    note: str
    signed_at: str


def size(conn: Connection) -> int:
    row = conn.execute("SELECT max(seq) FROM register_entries").fetchone()
    return 0 if row[0] is None else int(row[0]) + 1


_ENTRIES = "INSERT INTO register_entries (seq, stream, event_type, leaf_hash, seal, entry)"
_NODES = "INSERT INTO register_nodes (level, idx, hash)"
_SUBJECTS = "INSERT OR IGNORE INTO register_subject_blocks (block, tag, seq)"


def insert_entries(
    conn: Connection, rows: Sequence[tuple[int, str, str, bytes, bytes, bytes]]
) -> None:
    """Rows of (seq, stream, event_type, leaf_hash, seal, entry)."""
    values: list[object] = []
    for seq, stream, kind, leaf, seal, data in rows:
        values += (seq, stream, kind, _blob(leaf), _blob(seal), _blob(data))
    _insert_flat(conn, _ENTRIES, 6, values)


def insert_entry_columns(
    conn: Connection,
    first_seq: int,
    streams: Sequence[str],
    event_types: Sequence[str],
    leaf_hashes: Sequence[bytes],
    seals: Sequence[bytes],
    entries: Sequence[bytes],
) -> None:
    """:func:`insert_entries` for a batch given column by column, from seq ``first_seq`` on
    (the rows are built in C, without a Python call per entry). Columns of different lengths
    raise ValueError before anything is inserted."""
    count = len(entries)
    columns = zip(
        range(first_seq, first_seq + count),
        streams,
        event_types,
        map(_blob, leaf_hashes),
        map(_blob, seals),
        map(_blob, entries),
        strict=True,
    )
    _insert_flat(conn, _ENTRIES, 6, list(chain.from_iterable(columns)))


def insert_nodes(conn: Connection, rows: Sequence[tuple[int, int, bytes]]) -> None:
    values: list[object] = []
    for level, idx, digest in rows:
        values += (level, idx, _blob(digest))
    _insert_flat(conn, _NODES, 3, values)


def subject_tag(pseudonym: str) -> int:
    """The first 60 bits of a pseudonym (32 hex digits): the subject index's key."""
    return int(pseudonym[:15], 16)


def insert_subjects(conn: Connection, rows: Sequence[tuple[str, int]]) -> None:
    """Rows of (pseudonym, seq), kept as (block, tag, seq) near the end of the index."""
    bits = SUBJECT_BLOCK_BITS
    values: list[object] = []
    for p, seq in rows:
        values += (seq >> bits, int(p[:15], 16), seq)
    _insert_flat(conn, _SUBJECTS, 3, values)


def leaf_hashes(conn: Connection, start: int, end: int) -> list[bytes]:
    rows = conn.execute(
        "SELECT leaf_hash FROM register_entries WHERE seq >= ? AND seq < ? ORDER BY seq",
        (start, end),
    ).fetchall()
    return [bytes(r[0]) for r in rows]


def node_hashes(conn: Connection, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    """Stored perfect subtree hashes for (level, index) keys; missing keys are left out."""
    found: dict[tuple[int, int], bytes] = {}
    for offset in range(0, len(keys), 400):
        part = keys[offset : offset + 400]
        values = ",".join("(?, ?)" for _ in part)
        flat = [x for key in part for x in key]
        for level, idx, digest in conn.execute(
            "SELECT level, idx, hash FROM register_nodes WHERE (level, idx) IN "  # noqa: S608
            f"(VALUES {values})",
            flat,
        ).fetchall():
            found[(int(level), int(idx))] = bytes(digest)
    return found


def iter_entries(
    conn: Connection, start: int = 0, end: int | None = None
) -> Iterator[list[tuple[int, bytes, bytes | None, bytes]]]:
    """Chunks of (seq, leaf_hash, seal, entry) in sequence order."""
    stop = size(conn) if end is None else end
    cursor = conn.execute(
        "SELECT seq, leaf_hash, seal, entry FROM register_entries "
        "WHERE seq >= ? AND seq < ? ORDER BY seq",
        (start, stop),
    )
    while rows := cursor.fetchmany(READ_CHUNK):
        yield rows


def iter_nodes(conn: Connection) -> Iterator[list[tuple[int, int, bytes]]]:
    cursor = conn.execute("SELECT level, idx, hash FROM register_nodes ORDER BY level, idx")
    while rows := cursor.fetchmany(READ_CHUNK):
        yield rows


def entry(conn: Connection, seq: int) -> tuple[bytes, bytes] | None:
    """(leaf_hash, entry) of one entry."""
    row = conn.execute(
        "SELECT leaf_hash, entry FROM register_entries WHERE seq = ?", (seq,)
    ).fetchone()
    return None if row is None else (bytes(row[0]), bytes(row[1]))


def seqs_for_pseudonyms(conn: Connection, pseudonyms: Sequence[str]) -> list[int]:
    """Entries that may name one of ``pseudonyms``: every entry that does, and (rarely) one
    whose pseudonym only shares the 60-bit tag; the caller checks the entry's subjects."""
    seqs: set[int] = set()
    for p in pseudonyms:  # rows written before migration 0009
        for (seq,) in conn.execute(
            "SELECT seq FROM register_subjects WHERE pseudonym = ?", (p,)
        ).fetchall():
            seqs.add(int(seq))
    tags = sorted({subject_tag(p) for p in pseudonyms})
    low, high = conn.execute(
        "SELECT min(block), max(block) FROM register_subject_blocks"
    ).fetchone()
    for offset in range(0, len(tags) if low is not None else 0, 400):
        part = tags[offset : offset + 400]
        marks = ",".join("?" for _ in part)
        # One seek per block and tag: the blocks come from a counting CTE.
        for (seq,) in conn.execute(
            "WITH RECURSIVE blocks(b) AS (SELECT ? UNION ALL SELECT b + 1 FROM blocks "  # noqa: S608
            "WHERE b < ?) SELECT s.seq FROM blocks JOIN register_subject_blocks AS s "
            f"ON s.block = blocks.b AND s.tag IN ({marks})",
            (low, high, *part),
        ).fetchall():
            seqs.add(int(seq))
    return sorted(seqs)


def last_of_type(conn: Connection, event_type: str) -> bytes | None:
    row = conn.execute(
        "SELECT entry FROM register_entries WHERE event_type = ? ORDER BY seq DESC LIMIT 1",
        (event_type,),
    ).fetchone()
    return None if row is None else bytes(row[0])


def insert_checkpoint(conn: Connection, checkpoint: StoredCheckpoint) -> None:
    conn.execute(
        "INSERT INTO register_checkpoints (size, root, note, signed_at) VALUES (?, ?, ?, ?)",
        (checkpoint.size, checkpoint.root, checkpoint.note, checkpoint.signed_at),
    )


def _checkpoint(row: tuple[object, ...]) -> StoredCheckpoint:
    return StoredCheckpoint(int(row[0]), bytes(row[1]), str(row[2]), str(row[3]))  # type: ignore[call-overload]


def latest_checkpoint(conn: Connection) -> StoredCheckpoint | None:
    row = conn.execute(
        "SELECT size, root, note, signed_at FROM register_checkpoints ORDER BY size DESC LIMIT 1"
    ).fetchone()
    return None if row is None else _checkpoint(row)


def checkpoint_at(conn: Connection, at_size: int) -> StoredCheckpoint | None:
    row = conn.execute(
        "SELECT size, root, note, signed_at FROM register_checkpoints WHERE size = ?", (at_size,)
    ).fetchone()
    return None if row is None else _checkpoint(row)


def checkpoints(conn: Connection) -> list[StoredCheckpoint]:
    rows = conn.execute(
        "SELECT size, root, note, signed_at FROM register_checkpoints ORDER BY size"
    ).fetchall()
    return [_checkpoint(r) for r in rows]


def count_by_type(conn: Connection, start: int, end: int) -> dict[str, int]:
    """How many entries of each event type lie in ``[start, end)``."""
    rows = conn.execute(
        "SELECT event_type, count(*) FROM register_entries WHERE seq >= ? AND seq < ? "
        "GROUP BY event_type ORDER BY event_type",
        (start, end),
    ).fetchall()
    return {str(r[0]): int(r[1]) for r in rows}


def browse(
    conn: Connection,
    *,
    start: int,
    end: int,
    event_type: str | None,
    stream: str | None,
    limit: int,
) -> list[tuple[int, bytes]]:
    """(seq, entry) in ``[start, end)``, newest first, filtered by type and stream."""
    rows = conn.execute(
        "SELECT seq, entry FROM register_entries WHERE seq >= ? AND seq < ? "
        "AND (? IS NULL OR event_type = ?) AND (? IS NULL OR stream = ?) "
        "ORDER BY seq DESC LIMIT ?",
        (start, end, event_type, event_type, stream, stream, limit),
    ).fetchall()
    return [(int(r[0]), bytes(r[1])) for r in rows]
