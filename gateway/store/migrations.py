"""Numbered schema migrations applied at start-up, tracked in ``PRAGMA user_version``.

Migrations live in ``gateway/store/sql/NNNN_name.sql``. All pending ones run in one
transaction: either the schema reaches the latest version or nothing changes. Running them again
changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

import sqlcipher3

from gateway.errors import DatabaseOpenError, SchemaVersionError
from gateway.store.database import APPLICATION_ID, Connection, transaction

_NAME_RE = re.compile(r"^(?P<number>[0-9]{4})_(?P<name>[a-z0-9_]+)\.sql\Z")


@dataclass(frozen=True)
class Migration:
    number: int
    name: str
    statements: tuple[str, ...]


def _split_statements(script: str) -> tuple[str, ...]:
    """Split a script into complete statements (triggers with inner ``;`` stay whole)."""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        if not buffer and (not line.strip() or line.lstrip().startswith("--")):
            continue
        buffer += line
        if sqlcipher3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        raise ValueError(f"Incomplete SQL statement at end of migration: {buffer[:60]!r}")
    return tuple(statements)


@cache
def load_migrations() -> tuple[Migration, ...]:
    folder = resources.files("gateway.store") / "sql"
    found: list[Migration] = []
    for entry in folder.iterdir():
        match = _NAME_RE.match(entry.name)
        if match is None:
            continue
        found.append(
            Migration(
                int(match["number"]), match["name"], _split_statements(entry.read_text("utf-8"))
            )
        )
    found.sort(key=lambda m: m.number)
    numbers = [m.number for m in found]
    if numbers != list(range(1, len(found) + 1)):
        raise ValueError(f"Migrations must be numbered 1..n without gaps, found {numbers}.")
    return tuple(found)


def _latest() -> int:
    return len(load_migrations())


LATEST_VERSION = _latest()


def schema_version(conn: Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _check_is_sluis(conn: Connection, version: int) -> None:
    app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
    has_tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] > 0
    if app_id != APPLICATION_ID and (has_tables or version != 0):
        raise DatabaseOpenError(
            "The database opens with this key but is not a Sluis database "
            f"(application id {app_id:#x}): point SLUIS_DB_PATH at the Sluis database."
        )


def migrate(conn: Connection) -> int:
    """Bring the schema to the latest version; return the version reached."""
    migrations = load_migrations()
    latest = len(migrations)
    with transaction(conn):
        version = schema_version(conn)
        _check_is_sluis(conn, version)
        if version > latest:
            raise SchemaVersionError(
                f"The database has schema version {version}, newer than this Sluis knows "
                f"({latest}): upgrade Sluis before using this database."
            )
        for migration in migrations[version:]:
            for statement in migration.statements:
                conn.execute(statement)
        if version < latest:
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {latest}")
    return latest
