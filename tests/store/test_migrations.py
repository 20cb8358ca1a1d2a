from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from gateway.errors import SchemaVersionError
from gateway.store import LATEST_VERSION, Database, DatabaseKey, migrate, schema_version
from gateway.store import exchange as exchange_store
from gateway.store.database import APPLICATION_ID
from gateway.store.migrations import _split_statements, load_migrations


@pytest.fixture
def database(tmp_path: Path) -> Database:
    return Database(tmp_path / "sluis.db", DatabaseKey(os.urandom(32)))


def _schema(database: Database) -> list[tuple[str, str]]:
    with database.connection() as conn:
        rows = conn.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall()
    return [(str(a), str(b)) for a, b in rows]


def test_migrations_reach_latest_version(database: Database) -> None:
    with database.connection() as conn:
        assert migrate(conn) == LATEST_VERSION
        assert schema_version(conn) == LATEST_VERSION


def test_running_migrations_twice_changes_nothing(database: Database) -> None:
    with database.connection() as conn:
        migrate(conn)
    before = _schema(database)
    with database.connection() as conn:
        migrate(conn)
    assert _schema(database) == before


def test_newer_schema_is_refused(database: Database) -> None:
    with database.connection() as conn:
        migrate(conn)
        conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    with database.connection() as conn, pytest.raises(SchemaVersionError, match="upgrade Sluis"):
        migrate(conn)


def test_migrations_are_numbered_without_gaps() -> None:
    numbers = [m.number for m in load_migrations()]
    assert numbers == list(range(1, len(numbers) + 1))


def test_trigger_bodies_stay_one_statement() -> None:
    script = """
    -- a comment
    CREATE TABLE a (x);

    CREATE TRIGGER a_no_update BEFORE UPDATE ON a
    BEGIN
        SELECT RAISE(ABORT, 'append-only');
    END;
    """
    statements = _split_statements(script)
    assert len(statements) == 2
    assert statements[1].endswith("END;")


def test_incomplete_statement_is_an_error() -> None:
    with pytest.raises(ValueError, match="Incomplete"):
        _split_statements("CREATE TABLE a (x)")


_DROP = re.compile(r"DROP\s+(?:TABLE|INDEX|TRIGGER|VIEW)\s+(?:IF\s+EXISTS\s+)?(\w+)", re.I)


def _objects(conn: object) -> set[tuple[str, str]]:
    rows = conn.execute(  # type: ignore[attr-defined]
        "SELECT type, name FROM sqlite_master WHERE type IN ('table', 'index', 'trigger')"
    ).fetchall()
    return {(str(kind), str(name)) for kind, name in rows}


def test_no_migration_loses_a_table_index_or_trigger_it_does_not_drop_by_name(
    database: Database,
) -> None:
    """A rebuilt table (rename, copy, drop) silently loses its indexes and triggers: each
    migration may only lose what one of its own statements drops by name (and then recreate)."""
    with database.connection() as conn:
        before: set[tuple[str, str]] = set()
        for migration in load_migrations():
            dropped = {
                match[1]
                for statement in migration.statements
                if (match := _DROP.match(statement)) is not None
            }
            conn.execute("BEGIN")
            for statement in migration.statements:
                conn.execute(statement)
            conn.execute("COMMIT")
            after = _objects(conn)
            lost = {name for kind, name in before - after if name not in dropped}
            assert not lost, f"migration {migration.number:04d} lost {sorted(lost)}"
            before = after


def test_receipts_stored_before_0011_keep_their_signed_bytes(database: Database) -> None:
    with database.connection() as conn:
        conn.execute("BEGIN")
        for migration in load_migrations()[:10]:
            for statement in migration.statements:
                conn.execute(statement)
        conn.execute(
            "INSERT INTO receipts (message_id, sender, envelope_hash, outcome, receipt) "
            "VALUES ('m-1', 'landlord', ?, 'accepted', ?)",
            (bytes(32), b'{"signed":"receipt"}'),
        )
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute("PRAGMA user_version = 10")
        conn.execute("COMMIT")
        assert migrate(conn) == LATEST_VERSION
        found = exchange_store.get_receipts(conn, ["m-1"])["m-1"]
    assert found.receipt == b'{"signed":"receipt"}'
    assert (found.entry_seq, found.tree_size, found.case_ref, found.reasons) == (None,) * 4


def _migrate_to(conn: object, version: int) -> None:
    conn.execute("BEGIN")  # type: ignore[attr-defined]
    for migration in load_migrations()[:version]:
        for statement in migration.statements:
            conn.execute(statement)  # type: ignore[attr-defined]
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")  # type: ignore[attr-defined]
    conn.execute(f"PRAGMA user_version = {version}")  # type: ignore[attr-defined]
    conn.execute("COMMIT")  # type: ignore[attr-defined]


def test_deliveries_keep_every_row_and_their_uniqueness_across_0012(database: Database) -> None:
    row = ("intake", "m-1", "arrears-signal", "landlord", "case-1", 1, 7, "2026-11-24", 99)
    with database.connection() as conn:
        _migrate_to(conn, 11)
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute(
            "INSERT INTO deliveries (recipient, message_id, flow, sender, case_ref, priority, "
            "received_seq, received_at, size, state, delivered_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'delivered', '2026-11-25')",
            row,
        )
        assert migrate(conn) == LATEST_VERSION
        found = conn.execute(
            "SELECT recipient, message_id, flow, sender, case_ref, priority, received_seq, "
            "received_at, size, state, delivered_at, acknowledged_at FROM deliveries"
        ).fetchall()
        assert [tuple(r) for r in found] == [(*row, "delivered", "2026-11-25", None)]
        with pytest.raises(Exception, match="UNIQUE"):
            conn.execute(
                "INSERT INTO deliveries (recipient, message_id, flow, sender, case_ref, "
                "priority, received_seq, received_at, size, state) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')",
                row,
            )


@pytest.mark.parametrize(
    "where",
    [
        "recipient = 'intake' AND message_id = 'm-1'",  # fetch, acknowledge, expire
        "message_id = 'm-1' AND state = 'acknowledged'",  # purge
    ],
)
def test_delivery_lookups_use_an_index_not_a_scan(database: Database, where: str) -> None:
    with database.connection() as conn:
        migrate(conn)
        plan = " ".join(
            str(r[3])
            for r in conn.execute(f"EXPLAIN QUERY PLAN SELECT * FROM deliveries WHERE {where}")  # noqa: S608 - fixed test strings
        )
    assert "USING INDEX" in plan, plan
