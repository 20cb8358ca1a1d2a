"""Writers queue on the database's lock file instead of SQLite's sleeping busy wait."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from gateway.store import Connection, Database, DatabaseKey, migrate, transaction
from gateway.store.database import CHECKPOINT_ROWS


@pytest.fixture
def database(tmp_path: Path) -> Database:
    database = Database(tmp_path / "sluis.db", DatabaseKey(os.urandom(32)))
    with database.connection() as conn:
        migrate(conn)
        conn.execute("CREATE TABLE log (who TEXT NOT NULL, step TEXT NOT NULL)")
    return database


def test_a_second_writer_waits_for_the_first_instead_of_failing_busy(database: Database) -> None:
    """The second connection would fail at once with SQLite's busy timeout at 0: it is queued
    on the lock file until the first writer commits, then writes."""
    first_inside = threading.Event()
    second_started = threading.Event()
    errors: list[BaseException] = []

    def second() -> None:
        try:
            with database.connection() as conn:
                conn.execute("PRAGMA busy_timeout = 0")
                first_inside.wait(10)
                second_started.set()
                with transaction(conn):
                    conn.execute("INSERT INTO log VALUES ('second', 'wrote')")
        except BaseException as error:  # handed to the test thread, which fails on it
            errors.append(error)

    thread = threading.Thread(target=second)
    thread.start()
    with database.connection() as conn, transaction(conn):
        conn.execute("INSERT INTO log VALUES ('first', 'began')")
        first_inside.set()
        second_started.wait(10)
        thread.join(0.2)  # the second writer is queued, not failed and not finished
        assert thread.is_alive()
        conn.execute("INSERT INTO log VALUES ('first', 'committing')")
    thread.join(10)
    assert not errors
    with database.connection() as conn:
        rows = conn.execute("SELECT who, step FROM log ORDER BY rowid").fetchall()
    assert [tuple(r) for r in rows] == [
        ("first", "began"),
        ("first", "committing"),
        ("second", "wrote"),
    ]


def test_a_thread_inside_its_own_transaction_does_not_wait_for_itself(
    database: Database,
) -> None:
    """A second connection of the same thread gets SQLite's answer (busy), not a deadlock."""
    with database.connection() as outer, transaction(outer):
        outer.execute("INSERT INTO log VALUES ('outer', 'began')")
        with database.connection() as inner:
            inner.execute("PRAGMA busy_timeout = 0")
            with pytest.raises(Exception, match="locked"), transaction(inner):
                inner.execute("INSERT INTO log VALUES ('inner', 'never')")


def test_the_lock_file_is_private_and_holds_nothing(database: Database) -> None:
    with database.connection() as conn, transaction(conn):
        conn.execute("INSERT INTO log VALUES ('one', 'write')")
    lock = database.write_lock.path
    assert lock.parent == database.path.parent
    assert stat.S_IMODE(lock.stat().st_mode) == 0o600
    assert lock.stat().st_size == 0


def _fill(conn: Connection, rows: int) -> None:
    with transaction(conn):
        conn.executemany("INSERT INTO log VALUES (?, ?)", [("bulk", "x" * 1000)] * rows)


def test_a_large_transaction_is_copied_into_the_database_file_after_the_lock_is_released(
    database: Database,
) -> None:
    with database.connection() as conn:  # open throughout: closing it would checkpoint
        size = database.path.stat().st_size
        _fill(conn, 10)
        assert database.path.stat().st_size == size  # a small write stays in the log
        _fill(conn, CHECKPOINT_ROWS)
        assert database.path.stat().st_size >= size + CHECKPOINT_ROWS * 1000


def test_a_long_log_is_copied_whole_before_the_next_write_so_it_starts_over(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("gateway.store.database.RESTART_PAGES", 10)
    with database.connection() as conn:
        _fill(conn, CHECKPOINT_ROWS)
        assert database.write_lock.log_too_long
        _fill(conn, 1)
        assert not database.write_lock.log_too_long
        _busy, log_pages, _copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    assert log_pages < 10  # the last write started the log over: it holds only that write
