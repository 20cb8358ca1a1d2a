"""Notices: warnings the scheduler raises for a partner (its inbox of warnings) and the console.

A notice holds no personal data: kind, pseudonymous case reference, state, days overdue, a due
date and a reference (message id, key id or delivery month). ``fact`` names what the notice is
about; the same kind, partner and fact is stored once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.store.database import Connection


@dataclass(frozen=True)
class NewNotice:
    partner: str | None  # None: for the console only
    kind: str
    fact: str
    case_ref: str | None = None
    state: str | None = None
    days_overdue: int | None = None
    due_date: str | None = None
    reference: str | None = None


@dataclass(frozen=True)
class Notice:
    id: int
    created_at: str
    partner: str | None
    kind: str
    case_ref: str | None
    state: str | None
    days_overdue: int | None
    due_date: str | None
    reference: str | None


_COLUMNS = "id, created_at, partner, kind, case_ref, state, days_overdue, due_date, reference"


def _notice(row: Any) -> Notice:
    return Notice(
        int(row[0]),
        row[1],
        row[2],
        row[3],
        row[4],
        row[5],
        None if row[6] is None else int(row[6]),
        row[7],
        row[8],
    )


def insert_notice(conn: Connection, notice: NewNotice, *, at: str) -> bool:
    """Store a notice; False (and nothing stored) when this fact was noticed before."""
    cursor = conn.execute(
        "INSERT OR IGNORE INTO notices (created_at, partner, kind, case_ref, state, "
        "days_overdue, due_date, reference, fact) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            at,
            notice.partner,
            notice.kind,
            notice.case_ref,
            notice.state,
            notice.days_overdue,
            notice.due_date,
            notice.reference,
            notice.fact,
        ),
    )
    return cursor.rowcount == 1


def list_notices(
    conn: Connection,
    *,
    partner: str | None,
    after: int,
    limit: int,
    kind: str | None = None,
) -> list[Notice]:
    """Notices oldest first after id ``after``: one partner's, or all (``partner`` None)."""
    sql = [f"SELECT {_COLUMNS} FROM notices WHERE id > ?"]  # noqa: S608 - constant columns
    params: list[object] = [after]
    if partner is not None:
        sql.append("AND partner = ?")
        params.append(partner)
    if kind is not None:
        sql.append("AND kind = ?")
        params.append(kind)
    sql.append("ORDER BY id LIMIT ?")
    params.append(limit)
    return [_notice(r) for r in conn.execute(" ".join(sql), params).fetchall()]
