"""Deleting a case at the end of its retention reads by index, never the whole table."""

from __future__ import annotations

import os
from pathlib import Path

from gateway.store import Database, DatabaseKey, migrate, transaction
from gateway.store import exchange as store
from gateway.store import scheduler as scheduler_store

STAMP = "2026-11-24T12:00:00.000Z"


def _case(ref: str) -> store.CaseRecord:
    return store.CaseRecord(
        ref, f"subject-{ref}", "closed", False, "a", STAMP, STAMP, None, STAMP, ("a", "b")
    )


def test_deleting_a_case_removes_its_rows_by_index_not_by_scanning(tmp_path: Path) -> None:
    with Database(tmp_path / "sluis.db", DatabaseKey(os.urandom(32))).connection() as conn:
        migrate(conn)
        with transaction(conn):
            for c in range(3):
                ref = f"case-{c:020x}"
                store.insert_case(conn, _case(ref))
                for m in range(4):
                    message_id = f"m-{c}-{m}"
                    store.insert_receipts(
                        conn, [store.StoredReceipt(message_id, "a", bytes(32), "accepted", b"{}")]
                    )
                    store.insert_envelopes(
                        conn,
                        [
                            store.NewEnvelope(
                                message_id,
                                "a",
                                "arrears-signal",
                                ref,
                                STAMP,
                                b"x",
                                ("b", "c"),
                                False,
                                c * 4 + m,
                            )
                        ],
                    )
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
