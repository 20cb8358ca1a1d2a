from __future__ import annotations

import os
from pathlib import Path

import pytest

from gateway.errors import SchemaVersionError
from gateway.store import LATEST_VERSION, Database, DatabaseKey, migrate, schema_version
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
