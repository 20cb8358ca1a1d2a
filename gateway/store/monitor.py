"""Reads for the console's monitor: the rows its aggregated figures are computed from.

Only references, flows, parties and times leave here; never a subject reference or an
envelope. Cases and envelopes deleted after their retention period are no longer counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gateway.store.database import Connection


@dataclass(frozen=True)
class CaseTimes:
    case_ref: str
    opened_at: str
    priority: bool
    closed_at: str | None


@dataclass(frozen=True)
class EnvelopeTimes:
    case_ref: str
    flow: str
    sender: str
    received_at: str


@dataclass(frozen=True)
class AckTimes:
    case_ref: str
    flow: str
    recipient: str
    acknowledged_at: str


def cases(conn: Connection) -> list[CaseTimes]:
    rows = conn.execute(
        "SELECT case_ref, opened_at, priority, closed_at FROM cases ORDER BY opened_at, case_ref"
    ).fetchall()
    return [CaseTimes(str(r[0]), str(r[1]), bool(r[2]), r[3]) for r in rows]


def envelopes(conn: Connection, flows: Sequence[str]) -> list[EnvelopeTimes]:
    """Accepted envelopes of ``flows`` (every stored envelope row was accepted)."""
    if not flows:
        return []
    marks = ",".join("?" for _ in flows)
    rows = conn.execute(
        f"SELECT case_ref, flow, sender, received_at FROM envelopes "  # noqa: S608 - marks only
        f"WHERE flow IN ({marks}) ORDER BY received_at, message_id",
        tuple(flows),
    ).fetchall()
    return [EnvelopeTimes(str(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in rows]


def acknowledgements(conn: Connection, flows: Sequence[str]) -> list[AckTimes]:
    """Deliveries of ``flows`` that their recipient acknowledged (opened)."""
    if not flows:
        return []
    marks = ",".join("?" for _ in flows)
    rows = conn.execute(
        f"SELECT case_ref, flow, recipient, acknowledged_at FROM deliveries "  # noqa: S608
        f"WHERE acknowledged_at IS NOT NULL AND flow IN ({marks}) "
        "ORDER BY acknowledged_at, recipient",
        tuple(flows),
    ).fetchall()
    return [AckTimes(str(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in rows]
