from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from gateway.errors import DatabaseOpenError, KeyFileError
from gateway.store import Connection, Database, DatabaseKey, migrate, transaction
from gateway.store.database import APPLICATION_ID, CACHE_KIB


@pytest.fixture
def key() -> DatabaseKey:
    return DatabaseKey(os.urandom(32))


@pytest.fixture
def database(tmp_path: Path, key: DatabaseKey) -> Database:
    db = Database(tmp_path / "sluis.db", key)
    with db.connection() as conn:
        migrate(conn)
    return db


def test_standard_sqlite_cannot_read_the_database(database: Database) -> None:
    conn = sqlite3.connect(database.path)
    with pytest.raises(sqlite3.DatabaseError, match="not a database"):
        conn.execute("SELECT * FROM sqlite_master").fetchall()
    conn.close()


def test_file_holds_no_plaintext_schema(database: Database) -> None:
    raw = database.path.read_bytes()
    assert b"gateway_meta" not in raw
    assert not raw.startswith(b"SQLite format 3")


def test_wrong_key_is_refused_with_a_sentence(database: Database) -> None:
    other = Database(database.path, DatabaseKey(os.urandom(32)))
    with pytest.raises(DatabaseOpenError, match="cannot be decrypted with the key"):
        other.connect()


def test_plain_sqlite_file_is_not_a_sluis_database(tmp_path: Path, key: DatabaseKey) -> None:
    path = tmp_path / "plain.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    with pytest.raises(DatabaseOpenError, match="unencrypted SQLite database"):
        Database(path, key).connect()


def test_random_bytes_are_refused(tmp_path: Path, key: DatabaseKey) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(os.urandom(8192))
    with pytest.raises(DatabaseOpenError):
        Database(path, key).connect()


def test_other_sqlcipher_database_is_not_sluis(tmp_path: Path, key: DatabaseKey) -> None:
    db = Database(tmp_path / "other.db", key)
    with db.connection() as conn:
        conn.execute("CREATE TABLE foreign_app (x)")
    with db.connection() as conn, pytest.raises(DatabaseOpenError, match="not a Sluis database"):
        migrate(conn)


def test_pragmas_are_set(database: Database) -> None:
    with database.connection() as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert conn.execute("PRAGMA cache_size").fetchone()[0] == -CACHE_KIB


def _insert_then_fail(conn: Connection) -> None:
    with transaction(conn):
        conn.execute("INSERT INTO gateway_meta VALUES ('a', 'b')")
        raise RuntimeError("boom")


def test_transaction_rolls_back_on_error(database: Database) -> None:
    with database.connection() as conn:
        with pytest.raises(RuntimeError):
            _insert_then_fail(conn)
        assert conn.execute("SELECT count(*) FROM gateway_meta").fetchone()[0] == 0
        with transaction(conn):
            conn.execute("INSERT INTO gateway_meta VALUES ('a', 'b')")
        assert conn.execute("SELECT count(*) FROM gateway_meta").fetchone()[0] == 1


def test_key_repr_shows_no_secret() -> None:
    raw = bytes(range(32))
    key = DatabaseKey(raw)
    assert raw.hex() not in repr(key)
    assert "secret" in repr(key)


@pytest.mark.parametrize("text", [b"", b"zz" * 32, b"ab" * 31, b"ab" * 33, "é".encode() * 32])
def test_malformed_key_file_is_refused(tmp_path: Path, text: bytes) -> None:
    with pytest.raises(KeyFileError, match="64 hexadecimal"):
        DatabaseKey.from_file_text(text, path=tmp_path / "db.key")


def test_key_file_text_round_trips(key: DatabaseKey, tmp_path: Path) -> None:
    assert DatabaseKey.from_file_text(key.to_file_text(), path=tmp_path) == key
