"""Notices for partners and the console: warnings the scheduler raised, never personal data.

A partner sees only its own notices; the console (issue 8) lists all of them, console-only
notices (no partner) included.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.store import Connection
from gateway.store import notices as store
from gateway.store.notices import Notice

MAX_PAGE = 500


@dataclass(frozen=True)
class NoticePage:
    items: tuple[Notice, ...]
    next_after: int | None


def _page(rows: list[Notice], limit: int) -> NoticePage:
    page = tuple(rows[:limit])
    return NoticePage(page, page[-1].id if len(rows) > limit and page else None)


def for_partner(conn: Connection, partner: str, *, after: int = 0, limit: int = 100) -> NoticePage:
    """``partner``'s notices, oldest first, after notice id ``after``."""
    limit = max(1, min(limit, MAX_PAGE))
    return _page(store.list_notices(conn, partner=partner, after=after, limit=limit + 1), limit)


def for_console(
    conn: Connection, *, after: int = 0, limit: int = 100, kind: str | None = None
) -> NoticePage:
    """Every notice (every partner's and the console-only ones), oldest first."""
    limit = max(1, min(limit, MAX_PAGE))
    return _page(
        store.list_notices(conn, partner=None, after=after, limit=limit + 1, kind=kind), limit
    )
