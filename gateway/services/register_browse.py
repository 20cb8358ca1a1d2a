"""Reading the register for the console: counts per period and a filtered, paged listing.

Entries are appended in time order, so the first entry at or after a moment is found by binary
search over sequence numbers: O(log n) reads, never a scan of the whole register.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from gateway.register.entry import EVENT_TYPES, STREAMS, decode_entry, iso_time
from gateway.store import Connection
from gateway.store import register as store

PAGE_SIZE = 50


def first_at_or_after(conn: Connection, moment: datetime, size: int | None = None) -> int:
    """The sequence number of the first entry timed at or after ``moment`` (size if none)."""
    wanted = iso_time(moment)
    low, high = 0, store.size(conn) if size is None else size
    while low < high:
        middle = (low + high) // 2
        found = store.entry(conn, middle)
        stamp = "" if found is None else str(decode_entry(found[1]).get("time", ""))
        if stamp < wanted:
            low = middle + 1
        else:
            high = middle
    return low


def month_start(today: date) -> datetime:
    return datetime.combine(today.replace(day=1), time(), UTC)


def counts_since(conn: Connection, moment: datetime) -> dict[str, int]:
    size = store.size(conn)
    return store.count_by_type(conn, first_at_or_after(conn, moment, size), size)


@dataclass(frozen=True)
class Page:
    entries: tuple[dict[str, Any], ...]
    next_before: int | None


def browse(
    conn: Connection,
    *,
    period_from: date | None,
    period_to: date | None,
    event_type: str | None,
    stream: str | None,
    before: int | None,
    limit: int = PAGE_SIZE,
) -> Page:
    """Entries newest first; ``before`` is the sequence number the next page starts below."""
    if event_type is not None and event_type not in EVENT_TYPES:
        event_type = None
    if stream is not None and stream not in STREAMS:
        stream = None
    size = store.size(conn)
    start = 0
    end = size
    if period_from is not None:
        start = first_at_or_after(conn, datetime.combine(period_from, time(), UTC), size)
    if period_to is not None:
        day_after = datetime.combine(period_to + timedelta(days=1), time(), UTC)
        end = first_at_or_after(conn, day_after, size)
    if before is not None:
        end = min(end, max(before, 0))
    rows = store.browse(
        conn, start=start, end=end, event_type=event_type, stream=stream, limit=limit + 1
    )
    entries = tuple(decode_entry(data) for _seq, data in rows[:limit])
    return Page(entries, rows[limit - 1][0] if len(rows) > limit else None)
