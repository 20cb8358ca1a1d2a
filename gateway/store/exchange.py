"""Exchange tables: request nonces, cases, receipts, sealed envelopes, deliveries, mismatches."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from gateway.store.bulk import blob, insert_flat
from gateway.store.database import Connection, transaction

# -- nonces ---------------------------------------------------------------------------------


def remember_nonce(conn: Connection, key_id: str, nonce: str, seen_at: int) -> bool:
    """Record a request nonce; False when this key already used it (a replay)."""
    cursor = conn.execute(
        "INSERT OR IGNORE INTO request_nonces (key_id, nonce, seen_at) VALUES (?, ?, ?)",
        (key_id, nonce, seen_at),
    )
    return cursor.rowcount == 1


def nonce_seen(conn: Connection, key_id: str, nonce: str) -> bool:
    """Whether this key already used this nonce (a read: it takes no write lock)."""
    row = conn.execute(
        "SELECT 1 FROM request_nonces WHERE key_id = ? AND nonce = ?", (key_id, nonce)
    ).fetchone()
    return row is not None


def spend_nonce(
    conn: Connection, key_id: str, nonce: str, seen_at: int, *, forget_before: int | None
) -> bool:
    """Record a request nonce in its own small transaction; False when it was used before.

    The commit runs with ``synchronous=NORMAL``: in WAL mode that skips the fsync but never
    corrupts. The nonce becomes durable with the next FULL commit (every write request makes
    one) or checkpoint; only a power loss in between could forget it, and a request older than
    the signature window is refused by its ``created`` time anyway (docs/THREAT_MODEL.md).
    """
    conn.execute("PRAGMA synchronous = NORMAL")
    try:
        with transaction(conn):
            fresh = remember_nonce(conn, key_id, nonce, seen_at)
            if forget_before is not None:
                forget_nonces_before(conn, forget_before)
    finally:
        conn.execute("PRAGMA synchronous = FULL")
    return fresh


def forget_nonces_before(conn: Connection, before: int, limit: int = 1000) -> int:
    """Delete at most ``limit`` nonces older than ``before`` (bounded work per call)."""
    cursor = conn.execute(
        "DELETE FROM request_nonces WHERE (key_id, nonce) IN (SELECT key_id, nonce FROM "
        "request_nonces WHERE seen_at < ? LIMIT ?)",
        (before, limit),
    )
    return cursor.rowcount


# -- cases ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseRecord:
    case_ref: str
    subject_ref: str
    state: str
    priority: bool
    opened_by: str
    opened_at: str
    state_since: str
    deadline: str | None
    closed_at: str | None
    parties: tuple[str, ...]


_CASE_COLUMNS = (
    "case_ref, subject_ref, state, priority, opened_by, opened_at, state_since, deadline, closed_at"
)


def _case(conn: Connection, row: Any) -> CaseRecord:
    parties = tuple(
        r[0]
        for r in conn.execute(
            "SELECT party FROM case_parties WHERE case_ref = ? ORDER BY party", (row[0],)
        ).fetchall()
    )
    return CaseRecord(
        row[0], row[1], row[2], bool(row[3]), row[4], row[5], row[6], row[7], row[8], parties
    )


def get_case(conn: Connection, case_ref: str) -> CaseRecord | None:
    row = conn.execute(
        f"SELECT {_CASE_COLUMNS} FROM cases WHERE case_ref = ?",  # noqa: S608 - constant columns
        (case_ref,),
    ).fetchone()
    return None if row is None else _case(conn, row)


def open_case_for_subject(conn: Connection, subject_ref: str) -> CaseRecord | None:
    row = conn.execute(
        f"SELECT {_CASE_COLUMNS} FROM cases "  # noqa: S608 - constant columns
        "WHERE subject_ref = ? AND closed_at IS NULL ORDER BY opened_at LIMIT 1",
        (subject_ref,),
    ).fetchone()
    return None if row is None else _case(conn, row)


def insert_case(conn: Connection, case: CaseRecord) -> None:
    insert_cases(conn, [case])


def insert_cases(conn: Connection, cases: Sequence[CaseRecord]) -> None:
    rows: list[object] = []
    parties: list[object] = []
    for case in cases:
        rows += (
            case.case_ref,
            case.subject_ref,
            case.state,
            int(case.priority),
            case.opened_by,
            case.opened_at,
            case.state_since,
            case.deadline,
            case.closed_at,
        )
        for p in case.parties:
            parties += (case.case_ref, p)
    insert_flat(conn, f"INSERT INTO cases ({_CASE_COLUMNS})", 9, rows)  # noqa: S608
    insert_flat(conn, "INSERT OR IGNORE INTO case_parties (case_ref, party)", 2, parties)


def update_case(
    conn: Connection,
    case_ref: str,
    *,
    state: str,
    priority: bool,
    state_since: str,
    deadline: str | None,
    closed_at: str | None,
) -> None:
    conn.execute(
        "UPDATE cases SET state = ?, priority = ?, state_since = ?, deadline = ?, closed_at = ? "
        "WHERE case_ref = ?",
        (state, int(priority), state_since, deadline, closed_at, case_ref),
    )


def add_parties(conn: Connection, case_ref: str, parties: Sequence[str]) -> None:
    conn.executemany(
        "INSERT OR IGNORE INTO case_parties (case_ref, party) VALUES (?, ?)",
        [(case_ref, p) for p in parties],
    )


# -- receipts and envelopes -------------------------------------------------------------------


class StoredReceipt(NamedTuple):
    """What the gateway keeps of a receipt, for idempotent resubmission: either the signed
    receipt itself (rows stored before migration 0011) or the references it is rebuilt from
    (``receipt`` empty): the transfer's register entry, the tree size of its batch, the case and
    the reasons as JSON."""

    message_id: str
    sender: str
    envelope_hash: bytes
    outcome: str
    receipt: bytes = b""
    entry_seq: int | None = None
    tree_size: int | None = None
    case_ref: str | None = None
    reasons: str | None = None


_RECEIPT_COLUMNS = (
    "message_id, sender, envelope_hash, outcome, receipt, entry_seq, tree_size, case_ref, reasons"
)


def get_receipts(conn: Connection, message_ids: Sequence[str]) -> dict[str, StoredReceipt]:
    found: dict[str, StoredReceipt] = {}
    for offset in range(0, len(message_ids), 500):
        part = list(message_ids[offset : offset + 500])
        marks = ",".join("?" for _ in part)
        sql = f"SELECT {_RECEIPT_COLUMNS} FROM receipts WHERE message_id IN ({marks})"  # noqa: S608
        for row in conn.execute(sql, part).fetchall():
            found[row[0]] = StoredReceipt(
                row[0], row[1], bytes(row[2]), row[3], bytes(row[4]), *row[5:]
            )
    return found


def insert_receipts(conn: Connection, receipts: Sequence[StoredReceipt]) -> None:
    rows: list[object] = []
    for r in receipts:
        rows += (
            r.message_id,
            r.sender,
            blob(r.envelope_hash),
            r.outcome,
            blob(r.receipt),
            r.entry_seq,
            r.tree_size,
            r.case_ref,
            r.reasons,
        )
    insert_flat(conn, f"INSERT INTO receipts ({_RECEIPT_COLUMNS})", 9, rows)  # noqa: S608


class NewEnvelope(NamedTuple):
    """A sealed envelope to store, with its recipients (a named tuple: a batch makes 500)."""

    message_id: str
    sender: str
    flow: str
    case_ref: str
    received_at: str
    envelope: bytes
    recipients: tuple[str, ...]
    priority: bool
    received_seq: int


_ENVELOPES = "INSERT INTO envelopes (message_id, sender, flow, case_ref, received_at, envelope)"
_DELIVERIES = (
    "INSERT INTO deliveries (recipient, message_id, flow, sender, case_ref, priority, "
    "received_seq, received_at, size, state)"
)


def insert_envelopes(conn: Connection, envelopes: Sequence[NewEnvelope]) -> None:
    """The sealed envelopes and one pending delivery per recipient (multi-row inserts)."""
    rows: list[object] = []
    for e in envelopes:
        rows += (e.message_id, e.sender, e.flow, e.case_ref, e.received_at, blob(e.envelope))
    insert_flat(conn, _ENVELOPES, 6, rows)
    deliveries: list[object] = []
    for e in envelopes:
        size, priority = len(e.envelope), int(e.priority)
        for r in e.recipients:
            deliveries += (
                r,
                e.message_id,
                e.flow,
                e.sender,
                e.case_ref,
                priority,
                e.received_seq,
                e.received_at,
                size,
                "pending",
            )
    insert_flat(conn, _DELIVERIES, 10, deliveries)


@dataclass(frozen=True)
class Delivery:
    recipient: str
    message_id: str
    flow: str
    sender: str
    case_ref: str
    priority: bool
    received_seq: int
    received_at: str
    size: int
    state: str
    delivered_at: str | None
    acknowledged_at: str | None


_DELIVERY_COLUMNS = (
    "recipient, message_id, flow, sender, case_ref, priority, received_seq, received_at, size, "
    "state, delivered_at, acknowledged_at"
)


def _delivery(row: Any) -> Delivery:
    return Delivery(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        bool(row[5]),
        int(row[6]),
        row[7],
        int(row[8]),
        row[9],
        row[10],
        row[11],
    )


def get_delivery(conn: Connection, recipient: str, message_id: str) -> Delivery | None:
    row = conn.execute(
        f"SELECT {_DELIVERY_COLUMNS} FROM deliveries "  # noqa: S608 - constant columns
        "WHERE recipient = ? AND message_id = ?",
        (recipient, message_id),
    ).fetchone()
    return None if row is None else _delivery(row)


class InboxLine(NamedTuple):
    """One line of an inbox listing: what the recipient sees of a delivery, nothing more."""

    message_id: str
    flow: str
    sender: str
    case_ref: str
    priority: int  # 0 or 1 (a CHECK constraint)
    received_seq: int
    received_at: str
    size: int
    state: str


#: Exactly the columns of ``deliveries_inbox`` (migration 0010): a listing never reads the table.
_INBOX_COLUMNS = (
    "message_id, flow, sender, case_ref, priority, received_seq, received_at, size, state"
)


def inbox(
    conn: Connection,
    recipient: str,
    *,
    states: Sequence[str],
    flow: str | None,
    after: tuple[int, int] | None,
    limit: int,
) -> list[InboxLine]:
    """Inbox lines of ``recipient``: priority first, then oldest first, after a cursor.

    A cursor ``(priority, seq)`` continues within its priority and, after the last priority
    delivery, at the first ordinary one: two range seeks in ``deliveries_inbox``. (One query
    with ``priority < ? OR (...)`` made SQLite scan the inbox from its start: 100 ms and more
    deep in an inbox of 125,000.) The index covers every column read, so a page is one run of
    index entries."""
    if after is None:
        return _inbox_range(conn, recipient, states, flow, None, None, limit)
    priority, seq = after
    rows = _inbox_range(conn, recipient, states, flow, priority, seq, limit)
    if len(rows) < limit and priority > 0:  # priority is 0 or 1 (a CHECK constraint)
        rows += _inbox_range(conn, recipient, states, flow, 0, None, limit - len(rows))
    return rows


def _inbox_range(
    conn: Connection,
    recipient: str,
    states: Sequence[str],
    flow: str | None,
    priority: int | None,
    after_seq: int | None,
    limit: int,
) -> list[InboxLine]:
    sql = [
        f"SELECT {_INBOX_COLUMNS} FROM deliveries INDEXED BY deliveries_inbox",  # noqa: S608
        f"WHERE recipient = ? AND state IN ({','.join('?' for _ in states)})",
    ]
    params: list[object] = [recipient, *states]
    if flow is not None:
        sql.append("AND flow = ?")
        params.append(flow)
    if priority is not None:
        sql.append("AND priority = ?")
        params.append(priority)
    if after_seq is not None:
        sql.append("AND received_seq > ?")
        params.append(after_seq)
    sql.append("ORDER BY priority DESC, received_seq ASC LIMIT ?")
    params.append(limit)
    return list(map(InboxLine._make, conn.execute(" ".join(sql), params).fetchall()))


def mark_delivery(
    conn: Connection, recipient: str, message_id: str, *, state: str, at: str
) -> None:
    column = "delivered_at" if state == "delivered" else "acknowledged_at"
    conn.execute(
        f"UPDATE deliveries SET state = ?, {column} = coalesce({column}, ?) "  # noqa: S608
        "WHERE recipient = ? AND message_id = ?",
        (state, at, recipient, message_id),
    )


def get_envelope(conn: Connection, message_id: str) -> bytes | None:
    row = conn.execute(
        "SELECT envelope FROM envelopes WHERE message_id = ?", (message_id,)
    ).fetchone()
    return None if row is None or row[0] is None else bytes(row[0])


def insert_mismatch(
    conn: Connection, message_id: str, recipient: str, reason: str, at: str
) -> bool:
    cursor = conn.execute(
        "INSERT OR IGNORE INTO mismatch_reports (message_id, recipient, reason, reported_at) "
        "VALUES (?, ?, ?, ?)",
        (message_id, recipient, reason, at),
    )
    return cursor.rowcount == 1


def mismatch_reports(conn: Connection) -> list[tuple[str, str, str, str]]:
    rows = conn.execute(
        "SELECT message_id, recipient, reason, reported_at FROM mismatch_reports "
        "ORDER BY reported_at"
    ).fetchall()
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def last_activity(conn: Connection) -> dict[str, tuple[str | None, str | None]]:
    """Per partner: when it last sent an envelope and when one was last received for it
    (``received_at`` of envelopes by sender and of deliveries by recipient)."""
    sent = dict(
        conn.execute("SELECT sender, MAX(received_at) FROM envelopes GROUP BY sender").fetchall()
    )
    received = dict(
        conn.execute(
            "SELECT recipient, MAX(received_at) FROM deliveries GROUP BY recipient"
        ).fetchall()
    )
    return {
        str(p): (
            None if sent.get(p) is None else str(sent[p]),
            None if received.get(p) is None else str(received[p]),
        )
        for p in set(sent) | set(received)
    }
