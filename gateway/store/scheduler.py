"""Scheduler tables: the one-scheduler lock and the queries of the scheduled jobs.

Every function here runs inside the caller's transaction. Candidate queries return at most
``limit`` rows and exclude rows already handled, so a job that stops half-way (a crash, a
deploy) picks up exactly the rest on its next run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gateway.store.database import Connection

# -- the lock -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LockRow:
    holder: str
    host: str
    pid: int
    started_at: str
    heartbeat_at: str


def get_lock(conn: Connection) -> LockRow | None:
    row = conn.execute(
        "SELECT holder, host, pid, started_at, heartbeat_at FROM scheduler_lock WHERE id = 1"
    ).fetchone()
    return None if row is None else LockRow(row[0], row[1], int(row[2]), row[3], row[4])


def take_lock(
    conn: Connection, *, holder: str, host: str, pid: int, now: str, stale_before: str
) -> LockRow | None:
    """Take the lock when it is free, ours, or stale (heartbeat before ``stale_before``).

    Returns None when the lock is now ours, else the live holder's row. Call it inside a write
    transaction (BEGIN IMMEDIATE): two schedulers starting at once are serialised there.
    """
    current = get_lock(conn)
    if current is not None and current.holder != holder and current.heartbeat_at >= stale_before:
        return current
    conn.execute(
        "INSERT INTO scheduler_lock (id, holder, host, pid, started_at, heartbeat_at) "
        "VALUES (1, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, "
        "host = excluded.host, pid = excluded.pid, started_at = excluded.started_at, "
        "heartbeat_at = excluded.heartbeat_at",
        (holder, host, pid, now, now),
    )
    return None


def beat(conn: Connection, holder: str, now: str) -> bool:
    """Refresh the heartbeat; False when ``holder`` no longer holds the lock."""
    cursor = conn.execute(
        "UPDATE scheduler_lock SET heartbeat_at = ? WHERE id = 1 AND holder = ?", (now, holder)
    )
    return cursor.rowcount == 1


def release_lock(conn: Connection, holder: str) -> bool:
    cursor = conn.execute("DELETE FROM scheduler_lock WHERE id = 1 AND holder = ?", (holder,))
    return cursor.rowcount == 1


# -- retention: deliveries and envelopes ------------------------------------------------------


@dataclass(frozen=True)
class OpenDelivery:
    recipient: str
    message_id: str
    flow: str
    sender: str
    case_ref: str
    received_at: str


def unacknowledged_before(conn: Connection, before: str, limit: int) -> list[OpenDelivery]:
    """Deliveries still pending or delivered (never acknowledged), received before ``before``."""
    rows = conn.execute(
        "SELECT recipient, message_id, flow, sender, case_ref, received_at FROM deliveries "
        "WHERE state IN ('pending', 'delivered') AND received_at < ? "
        "ORDER BY received_at, message_id, recipient LIMIT ?",
        (before, limit),
    ).fetchall()
    return [OpenDelivery(*(str(v) for v in r)) for r in rows]


def expire_delivery(conn: Connection, recipient: str, message_id: str) -> bool:
    cursor = conn.execute(
        "UPDATE deliveries SET state = 'expired' WHERE recipient = ? AND message_id = ? "
        "AND state IN ('pending', 'delivered')",
        (recipient, message_id),
    )
    return cursor.rowcount == 1


@dataclass(frozen=True)
class PurgeableEnvelope:
    message_id: str
    sender: str
    flow: str
    case_ref: str


def purgeable_envelopes(
    conn: Connection, acknowledged_before: str, limit: int
) -> list[PurgeableEnvelope]:
    """Envelopes still holding their sealed blob whose every delivery is final (acknowledged,
    expired or purged) and whose last acknowledgement is older than ``acknowledged_before``."""
    rows = conn.execute(
        "SELECT e.message_id, e.sender, e.flow, e.case_ref FROM envelopes e "
        "WHERE e.envelope IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.message_id = e.message_id "
        "AND d.state IN ('pending', 'delivered')) "
        "AND ifnull((SELECT max(d.acknowledged_at) FROM deliveries d "
        "WHERE d.message_id = e.message_id AND d.state = 'acknowledged'), '') < ? "
        "ORDER BY e.received_at, e.message_id LIMIT ?",
        (acknowledged_before, limit),
    ).fetchall()
    return [PurgeableEnvelope(*(str(v) for v in r)) for r in rows]


def purge_envelope(conn: Connection, message_id: str, at: str) -> bool:
    """Drop the sealed blob; acknowledged deliveries become ``purged``. False if done before."""
    cursor = conn.execute(
        "UPDATE envelopes SET envelope = NULL, purged_at = ? "
        "WHERE message_id = ? AND envelope IS NOT NULL",
        (at, message_id),
    )
    if cursor.rowcount != 1:
        return False
    conn.execute(
        "UPDATE deliveries SET state = 'purged' WHERE message_id = ? AND state = 'acknowledged'",
        (message_id,),
    )
    return True


# -- retention: cases -------------------------------------------------------------------------


@dataclass(frozen=True)
class PurgeableCase:
    case_ref: str
    subject_ref: str
    state: str


def closed_cases_before(conn: Connection, before: str, limit: int) -> list[PurgeableCase]:
    rows = conn.execute(
        "SELECT case_ref, subject_ref, state FROM cases "
        "WHERE closed_at IS NOT NULL AND closed_at < ? ORDER BY closed_at, case_ref LIMIT ?",
        (before, limit),
    ).fetchall()
    return [PurgeableCase(*(str(v) for v in r)) for r in rows]


def idle_open_cases(conn: Connection, state: str, before: str, limit: int) -> list[PurgeableCase]:
    """Open cases in ``state`` whose last activity (entering the state, or the last envelope
    about the case, such as a repeated monthly signal) is before ``before``."""
    rows = conn.execute(
        "SELECT c.case_ref, c.subject_ref, c.state FROM cases c "
        "WHERE c.closed_at IS NULL AND c.state = ? AND max(c.state_since, "
        "ifnull((SELECT max(e.received_at) FROM envelopes e WHERE e.case_ref = c.case_ref), '')"
        ") < ? ORDER BY c.opened_at, c.case_ref LIMIT ?",
        (state, before, limit),
    ).fetchall()
    return [PurgeableCase(*(str(v) for v in r)) for r in rows]


def delete_case(conn: Connection, case_ref: str) -> int:
    """Delete a case and its routing data: deliveries, mismatch reports, envelope rows, parties
    and notices. Receipts stay (signed evidence holding only references). Returns the number of
    envelope rows deleted; 0 and nothing changed when the case is already gone."""
    if conn.execute("SELECT 1 FROM cases WHERE case_ref = ?", (case_ref,)).fetchone() is None:
        return 0
    # By the case's envelopes (envelopes_by_case, then the deliveries' message index): the
    # deliveries table has no index on case_ref, and a scan of it per deleted case would read
    # every delivery row. Each delivery carries its envelope's case, so the rows are the same.
    conn.execute(
        "DELETE FROM deliveries WHERE message_id IN "
        "(SELECT message_id FROM envelopes WHERE case_ref = ?)",
        (case_ref,),
    )
    conn.execute(
        "DELETE FROM mismatch_reports WHERE message_id IN "
        "(SELECT message_id FROM envelopes WHERE case_ref = ?)",
        (case_ref,),
    )
    envelopes = conn.execute("DELETE FROM envelopes WHERE case_ref = ?", (case_ref,)).rowcount
    conn.execute("DELETE FROM case_parties WHERE case_ref = ?", (case_ref,))
    conn.execute("DELETE FROM notices WHERE case_ref = ?", (case_ref,))
    conn.execute("DELETE FROM cases WHERE case_ref = ?", (case_ref,))
    return envelopes


# -- deadlines and deliveries -----------------------------------------------------------------


@dataclass(frozen=True)
class OverdueCase:
    case_ref: str
    state: str
    priority: bool
    deadline: str
    parties: tuple[str, ...]


def overdue_cases(conn: Connection, today: str, after: str, limit: int) -> list[OverdueCase]:
    """Open cases whose deadline (a date) is before ``today``, by case reference after
    ``after`` (keyset paging)."""
    rows = conn.execute(
        "SELECT case_ref, state, priority, deadline FROM cases WHERE closed_at IS NULL "
        "AND deadline IS NOT NULL AND deadline < ? AND case_ref > ? ORDER BY case_ref LIMIT ?",
        (today, after, limit),
    ).fetchall()
    found = []
    for row in rows:
        parties = tuple(
            str(p[0])
            for p in conn.execute(
                "SELECT party FROM case_parties WHERE case_ref = ? ORDER BY party", (row[0],)
            ).fetchall()
        )
        found.append(OverdueCase(str(row[0]), str(row[1]), bool(row[2]), str(row[3]), parties))
    return found


def delivered_since(conn: Connection, sender: str, flows: Sequence[str], since: str) -> bool:
    """True when ``sender`` had an envelope of one of ``flows`` accepted at or after ``since``."""
    if not flows:
        return False
    marks = ",".join("?" for _ in flows)
    row = conn.execute(
        f"SELECT 1 FROM envelopes WHERE sender = ? AND flow IN ({marks}) "  # noqa: S608
        "AND received_at >= ? LIMIT 1",
        (sender, *flows, since),
    ).fetchone()
    return row is not None
