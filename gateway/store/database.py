"""Opening the encrypted database: key, pragmas, and clear errors when that fails."""

from __future__ import annotations

import fcntl
import hmac
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, Protocol

import sqlcipher3

from gateway.errors import DatabaseOpenError, KeyFileError

#: ``PRAGMA application_id`` of every Sluis database: "SLUS".
APPLICATION_ID = 0x534C5553
DB_KEY_BYTES = 32
_PLAIN_SQLITE_MAGIC = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 10_000
#: Page cache per connection (SQLite's default is 2 MiB). SQLCipher decrypts a page each time
#: it is read into the cache, and a batch inserts into indexes keyed by random message ids and
#: case references, which touch pages all over the file: with 2 MiB most of them were read and
#: decrypted again for every batch. The cache fills only as pages are read.
CACHE_KIB = 65_536
#: SQLite copies the write-ahead log into the database file (a checkpoint) inside the COMMIT
#: that takes the log past ``wal_autocheckpoint`` pages, while a Sluis writer still holds the
#: write lock file: about 12 of a batch's 85 ms there. Sluis connections checkpoint themselves
#: right after they let go of the lock, once their transactions changed this many rows since
#: their last checkpoint; SQLite's own checkpoint stays as a backstop at a much longer log.
CHECKPOINT_ROWS = 1_000
AUTOCHECKPOINT_PAGES = 16_384
#: A checkpoint that runs while the next writer appends cannot let the log start over, so under
#: steady writes it only grows. Once it holds this many pages, the next writer checkpoints
#: before it begins, holding the lock: nobody appends, the log is copied whole, and its write
#: starts the log over from the beginning.
RESTART_PAGES = 8_192


class Cursor(Protocol):
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def fetchmany(self, size: int = ..., /) -> list[Any]: ...

    @property
    def rowcount(self) -> int: ...


class Connection(Protocol):
    """The part of a DB-API connection the store uses (``sqlcipher3`` ships no type hints)."""

    def execute(self, sql: str, parameters: Any = ..., /) -> Cursor: ...
    def executemany(self, sql: str, parameters: Any, /) -> Cursor: ...
    def close(self) -> None: ...

    @property
    def in_transaction(self) -> bool: ...


class WriteLock:
    """Writers of one database queue here, on a lock file beside it, before they ask SQLite.

    SQLite's own wait for a busy database polls with sleeps growing to 100 ms, so under steady
    writes a worker that was kept waiting once keeps missing the moments the lock is free while
    another worker takes it again and again (measured: batch submission through two workers
    swung between 26 % and 48 % of its floor from run to run). A blocking ``flock`` wakes a
    waiter as soon as the holder lets go. Each transaction opens the file itself, so threads of
    one process queue as separate processes do. SQLite's locking still decides correctness:
    this only orders the writers that take it. A thread that already holds it (a second
    connection inside its own transaction) does not wait for itself: SQLite's busy timeout
    answers that case as before. The file holds no data.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._holder = threading.local()
        self.log_too_long = False  # set by a checkpoint that left a long log behind

    @contextmanager
    def held(self) -> Iterator[None]:
        if getattr(self._holder, "holds", False):
            yield
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._holder.holds = True
            try:
                yield
            finally:
                self._holder.holds = False
        finally:
            os.close(fd)  # closing the file releases the lock


class _SluisConnection(sqlcipher3.Connection):  # type: ignore[misc]
    """A sqlcipher3 connection that knows its database's write lock."""

    write_lock: WriteLock | None = None
    checkpointed_at_changes = 0  # ``total_changes`` at this connection's last checkpoint


class DatabaseKey:
    """The 32-byte raw SQLCipher key. ``repr`` never shows it."""

    __slots__ = ("_raw",)

    def __init__(self, raw: bytes) -> None:
        if len(raw) != DB_KEY_BYTES:
            raise KeyFileError(f"A database key is {DB_KEY_BYTES} bytes, not {len(raw)}.")
        self._raw = raw

    @classmethod
    def from_file_text(cls, text: bytes, *, path: Path) -> DatabaseKey:
        """Parse a key file: 64 hexadecimal characters and an optional newline."""
        stripped = text.strip()
        try:
            raw = bytes.fromhex(stripped.decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            raw = b""
        if len(stripped) != 2 * DB_KEY_BYTES or len(raw) != DB_KEY_BYTES:
            raise KeyFileError(
                f"The database key {path} is not a Sluis database key "
                "(expected 64 hexadecimal characters)."
            )
        return cls(raw)

    def to_file_text(self) -> bytes:
        return self._raw.hex().encode("ascii") + b"\n"

    def pragma(self) -> str:
        # The raw-key form x'..' skips SQLCipher's PBKDF2: opening a connection stays cheap.
        return f"PRAGMA key = \"x'{self._raw.hex()}'\""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DatabaseKey) and hmac.compare_digest(self._raw, other._raw)

    def __hash__(self) -> int:
        return hash(type(self))

    def __repr__(self) -> str:
        return "DatabaseKey(<secret>)"


class Database:
    """Where the database lives and how to open it; opens one connection per call."""

    def __init__(self, path: Path, key: DatabaseKey) -> None:
        self.path = path
        self._key = key
        self.write_lock = WriteLock(path.with_name(path.name + ".write-lock"))

    def connect(self) -> Connection:
        """Open a keyed connection with Sluis's pragmas, or raise DatabaseOpenError."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        conn = sqlcipher3.connect(
            str(self.path),
            isolation_level=None,
            timeout=BUSY_TIMEOUT_MS / 1000,
            factory=_SluisConnection,
        )
        conn.write_lock = self.write_lock
        try:
            conn.execute("PRAGMA cipher_log_level = NONE")  # no decrypt noise on stderr
            conn.execute(self._key.pragma())
            conn.execute("PRAGMA temp_store = MEMORY")
            try:
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            except sqlcipher3.DatabaseError:
                raise self._open_error() from None
            conn.execute("PRAGMA journal_mode = WAL").fetchone()
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
            conn.execute(f"PRAGMA wal_autocheckpoint = {AUTOCHECKPOINT_PAGES}")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA trusted_schema = OFF")
        except BaseException:
            conn.close()
            raise
        return conn  # type: ignore[no-any-return]

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        conn = self.connect()
        try:
            yield conn
        finally:
            conn.close()

    def _open_error(self) -> DatabaseOpenError:
        with self.path.open("rb") as fh:
            head = fh.read(len(_PLAIN_SQLITE_MAGIC))
        if head == _PLAIN_SQLITE_MAGIC:
            return DatabaseOpenError(
                f"The file {self.path} is an unencrypted SQLite database, not a Sluis database: "
                "point SLUIS_DB_PATH at the Sluis database or move this file away."
            )
        return DatabaseOpenError(
            f"The database {self.path} cannot be decrypted with the key in SLUIS_KEY_DIR: "
            "either db.key is not the key this database was created with, or the file is not a "
            "Sluis database. Restore the original db.key (never re-run `gateway init --force` "
            "on a live instance)."
        )


@contextmanager
def transaction(conn: Connection) -> Iterator[Connection]:
    """One write transaction (BEGIN IMMEDIATE ... COMMIT); rolled back on any exception.
    Connections from :class:`Database` queue on its :class:`WriteLock` first."""
    lock: WriteLock | None = getattr(conn, "write_lock", None)
    with lock.held() if lock is not None else nullcontext():
        if lock is not None and lock.log_too_long:
            lock.log_too_long = False
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    if lock is not None:
        _checkpoint_when_due(conn, lock)


def _checkpoint_when_due(conn: Connection, lock: WriteLock) -> None:
    """Copy the log into the database file once this connection changed ``CHECKPOINT_ROWS``
    rows since it last did (PASSIVE: it waits for no reader or writer)."""
    changes = int(getattr(conn, "total_changes", 0))
    if changes - int(getattr(conn, "checkpointed_at_changes", 0)) >= CHECKPOINT_ROWS:
        _busy, log_pages, _copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        conn.checkpointed_at_changes = changes  # type: ignore[attr-defined]
        if log_pages >= RESTART_PAGES:
            lock.log_too_long = True
