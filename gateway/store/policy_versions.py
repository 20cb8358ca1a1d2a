"""Published policy versions (table ``policy_versions``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.errors import NotFound
from gateway.store.database import Connection


@dataclass(frozen=True)
class PublishedPolicy:
    version_id: str
    bundle: bytes
    signature: bytes
    key_fingerprint: str
    published_at: str
    effective_from: str
    published_by: str
    label: str


# Full literal statements (no string building): the column list is spelled out each time.
_SELECT = (
    "SELECT version_id, bundle, signature, key_fingerprint, published_at, effective_from, "
    "published_by, label FROM policy_versions"
)


def _row(row: Any) -> PublishedPolicy:
    return PublishedPolicy(
        str(row[0]),
        bytes(row[1]),
        bytes(row[2]),
        str(row[3]),
        str(row[4]),
        str(row[5]),
        str(row[6]),
        str(row[7]),
    )


def insert_if_new(conn: Connection, version: PublishedPolicy) -> bool:
    """Store a published version; False when that version id was already published."""
    cursor = conn.execute(
        "INSERT INTO policy_versions (version_id, bundle, signature, key_fingerprint, "
        "published_at, effective_from, published_by, label) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (version_id) DO NOTHING",
        (
            version.version_id,
            version.bundle,
            version.signature,
            version.key_fingerprint,
            version.published_at,
            version.effective_from,
            version.published_by,
            version.label,
        ),
    )
    return cursor.rowcount == 1


def get(conn: Connection, version_id: str) -> PublishedPolicy | None:
    row = conn.execute(_SELECT + " WHERE version_id = ?", (version_id,)).fetchone()
    return None if row is None else _row(row)


def require(conn: Connection, version_id: str) -> PublishedPolicy:
    found = get(conn, version_id)
    if found is None:
        raise NotFound(f"Policy version {version_id} has not been published.")
    return found


def current(conn: Connection, today: str) -> PublishedPolicy | None:
    """The version in force on ``today`` (ISO date): latest effective_from not after it."""
    row = conn.execute(
        _SELECT + " WHERE effective_from <= ? "
        "ORDER BY effective_from DESC, published_at DESC LIMIT 1",
        (today,),
    ).fetchone()
    return None if row is None else _row(row)


def history(conn: Connection) -> list[PublishedPolicy]:
    rows = conn.execute(_SELECT + " ORDER BY published_at DESC").fetchall()
    return [_row(r) for r in rows]


# -- publications: each time a version was published (a restore publishes a version again) ----


@dataclass(frozen=True)
class Publication:
    seq: int
    version_id: str
    published_at: str
    effective_from: str
    published_by: str
    label: str


def insert_publication(conn: Connection, version: PublishedPolicy) -> None:
    conn.execute(
        "INSERT INTO policy_publications (version_id, published_at, effective_from, "
        "published_by, label) VALUES (?, ?, ?, ?, ?)",
        (
            version.version_id,
            version.published_at,
            version.effective_from,
            version.published_by,
            version.label,
        ),
    )


def publications(conn: Connection, limit: int = 200) -> list[Publication]:
    """The latest publications first."""
    rows = conn.execute(
        "SELECT seq, version_id, published_at, effective_from, published_by, label "
        "FROM policy_publications ORDER BY seq DESC LIMIT ?",
        (limit,),
    ).fetchall()
    return [Publication(int(r[0]), *(str(v) for v in r[1:])) for r in rows]


def latest_published_id(conn: Connection) -> str | None:
    """The version id of the latest publication: the policy the gateway should run."""
    row = conn.execute(
        "SELECT version_id FROM policy_publications ORDER BY seq DESC LIMIT 1"
    ).fetchone()
    return None if row is None else str(row[0])
