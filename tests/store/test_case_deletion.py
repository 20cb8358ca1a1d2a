"""Deleting a case at the end of its retention reads by index, never the whole table."""

from __future__ import annotations

import os
from pathlib import Path

from gateway.store import Database, DatabaseKey, migrate, transaction
from gateway.store import exchange as store
from gateway.store import scheduler as scheduler_store
from tests.store.rows import accepted_envelope, case


def test_deleting_a_case_removes_its_rows_by_index_not_by_scanning(tmp_path: Path) -> None:
    with Database(tmp_path / "sluis.db", DatabaseKey(os.urandom(32))).connection() as conn:
        migrate(conn)
        with transaction(conn):
            for c in range(3):
                ref = f"case-{c:020x}"
                store.insert_case(conn, case(ref, "closed", ("a", "b"), closed=True))
                for m in range(4):
                    accepted_envelope(conn, f"m-{c}-{m}", ref, c * 4 + m, ("b", "c"))
        statements: list[str] = []
        conn.set_trace_callback(statements.append)  # type: ignore[attr-defined]
        with transaction(conn):
            assert scheduler_store.delete_case(conn, f"case-{1:020x}") == 4
        conn.set_trace_callback(None)  # type: ignore[attr-defined]
        remaining = conn.execute("SELECT DISTINCT case_ref FROM deliveries").fetchall()
        assert sorted(r[0] for r in remaining) == [f"case-{0:020x}", f"case-{2:020x}"]
        for sql in statements:
            if sql.startswith(("DELETE", "SELECT")):
                plan = " ".join(
                    str(r[3]) for r in conn.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()
                )
                assert "SCAN deliveries" not in plan, (sql, plan)
                assert "SCAN envelopes" not in plan, (sql, plan)
