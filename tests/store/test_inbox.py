"""The inbox query: cursor pages walk every delivery once, priority first, then oldest first."""

from __future__ import annotations

import os
from pathlib import Path

from gateway.store import Connection, Database, DatabaseKey, migrate, transaction
from gateway.store import exchange as store
from tests.store.rows import STAMP, accepted_envelope, case


def _fill(conn: Connection, count: int) -> None:
    with transaction(conn):
        store.insert_case(conn, case("case-" + "0" * 20, "signalled", ("a",)))
        for i in range(count):
            accepted_envelope(
                conn, f"m{i:021d}", "case-" + "0" * 20, i, ("inbox",), priority=i % 3 == 0
            )
        store.mark_delivery(conn, "inbox", f"m{4:021d}", state="acknowledged", at=STAMP)


def test_cursor_pages_cross_from_priority_to_ordinary(tmp_path: Path) -> None:
    with Database(tmp_path / "sluis.db", DatabaseKey(os.urandom(32))).connection() as conn:
        migrate(conn)
        _fill(conn, 20)
        states = ("pending", "delivered")
        expected = [
            (p, s)
            for p, s in sorted(
                ((int(i % 3 == 0), i) for i in range(20)), key=lambda r: (-r[0], r[1])
            )
            if s != 4
        ]
        for size in (1, 2, 3, 6, 7, 19, 25):
            seen: list[tuple[int, int]] = []
            after: tuple[int, int] | None = None
            while True:
                page = store.inbox(conn, "inbox", states=states, flow=None, after=after, limit=size)
                seen.extend((int(d.priority), d.received_seq) for d in page)
                if len(page) < size:
                    break
                after = (int(page[-1].priority), page[-1].received_seq)
            assert seen == expected, size
        assert (
            store.inbox(conn, "inbox", states=states, flow="case-closure", after=None, limit=5)
            == []
        )


def test_a_listing_reads_only_the_covering_index(tmp_path: Path) -> None:
    """Every column a listing returns is in ``deliveries_inbox``: SQLite never reads the table."""
    with Database(tmp_path / "sluis.db", DatabaseKey(os.urandom(32))).connection() as conn:
        migrate(conn)
        _fill(conn, 12)
        seen: list[str] = []

        def trace(sql: str) -> None:
            if "FROM deliveries" in sql and not sql.startswith("EXPLAIN"):
                seen.append(sql)

        conn.set_trace_callback(trace)  # type: ignore[attr-defined]
        for after in (None, (1, 0), (0, 2)):
            for flow in (None, "arrears-signal"):
                lines = store.inbox(
                    conn, "inbox", states=("pending",), flow=flow, after=after, limit=3
                )
                assert lines
                assert all(isinstance(line, store.InboxLine) for line in lines)
        conn.set_trace_callback(None)  # type: ignore[attr-defined]
        assert seen
        for sql in seen:
            plan = " ".join(str(row[3]) for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}"))
            assert "USING COVERING INDEX deliveries_inbox" in plan, plan


def test_an_inbox_line_is_exactly_the_listed_fields(tmp_path: Path) -> None:
    with Database(tmp_path / "sluis.db", DatabaseKey(os.urandom(32))).connection() as conn:
        migrate(conn)
        _fill(conn, 3)
        [line] = store.inbox(conn, "inbox", states=("pending",), flow=None, after=None, limit=1)
        stored = store.get_delivery(conn, "inbox", line.message_id)
        assert stored is not None
        for name in store.InboxLine._fields:
            assert getattr(line, name) == getattr(stored, name), name
