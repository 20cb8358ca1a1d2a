"""The key directory (tables ``partners`` and ``partner_keys``). Times are ISO 8601 UTC text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.errors import ApiProblem, NotFound
from gateway.store.database import Connection


class KeyDirectoryConflict(ApiProblem):
    """A partner or key that already exists, or a state change that is not allowed."""

    code = "key-directory-conflict"
    title = "Key directory conflict"
    status = 409


@dataclass(frozen=True)
class PartnerRecord:
    id: str
    name: str
    created_at: str
    created_by: str


@dataclass(frozen=True)
class KeyRecord:
    key_id: str
    partner_id: str
    ed25519: bytes
    x25519: bytes
    encryption_key_id: str
    not_before: str
    not_after: str | None
    status: str
    registered_by: str
    registered_at: str
    status_changed_at: str | None
    status_reason: str | None


_KEY_SELECT = (
    "SELECT key_id, partner_id, ed25519, x25519, encryption_key_id, not_before, not_after, "
    "status, registered_by, registered_at, status_changed_at, status_reason FROM partner_keys"
)


def _key(row: Any) -> KeyRecord:
    return KeyRecord(
        str(row[0]),
        str(row[1]),
        bytes(row[2]),
        bytes(row[3]),
        str(row[4]),
        str(row[5]),
        None if row[6] is None else str(row[6]),
        str(row[7]),
        str(row[8]),
        str(row[9]),
        None if row[10] is None else str(row[10]),
        None if row[11] is None else str(row[11]),
    )


def add_partner(
    conn: Connection, partner_id: str, name: str, *, now: str, by: str
) -> PartnerRecord:
    if get_partner(conn, partner_id) is not None:
        raise KeyDirectoryConflict(f"Partner '{partner_id}' is already registered.")
    conn.execute(
        "INSERT INTO partners (id, name, created_at, created_by) VALUES (?, ?, ?, ?)",
        (partner_id, name, now, by),
    )
    return PartnerRecord(partner_id, name, now, by)


def get_partner(conn: Connection, partner_id: str) -> PartnerRecord | None:
    row = conn.execute(
        "SELECT id, name, created_at, created_by FROM partners WHERE id = ?", (partner_id,)
    ).fetchone()
    return None if row is None else PartnerRecord(*(str(v) for v in row))


def list_partners(conn: Connection) -> list[PartnerRecord]:
    rows = conn.execute(
        "SELECT id, name, created_at, created_by FROM partners ORDER BY id"
    ).fetchall()
    return [PartnerRecord(*(str(v) for v in row)) for row in rows]


def insert_key(conn: Connection, key: KeyRecord) -> None:
    if get_partner(conn, key.partner_id) is None:
        raise NotFound(f"Partner '{key.partner_id}' is not registered: run `gateway partner add`.")
    if find_key(conn, key.key_id) is not None:
        raise KeyDirectoryConflict(f"Key {key.key_id} is already registered.")
    conn.execute(
        "INSERT INTO partner_keys (key_id, partner_id, ed25519, x25519, encryption_key_id, "
        "not_before, not_after, status, registered_by, registered_at, status_changed_at, "
        "status_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            key.key_id,
            key.partner_id,
            key.ed25519,
            key.x25519,
            key.encryption_key_id,
            key.not_before,
            key.not_after,
            key.status,
            key.registered_by,
            key.registered_at,
            key.status_changed_at,
            key.status_reason,
        ),
    )


def set_status(conn: Connection, key_id: str, status: str, *, now: str, reason: str) -> None:
    conn.execute(
        "UPDATE partner_keys SET status = ?, status_changed_at = ?, status_reason = ? "
        "WHERE key_id = ?",
        (status, now, reason, key_id),
    )


def find_key(conn: Connection, key_id: str) -> KeyRecord | None:
    row = conn.execute(_KEY_SELECT + " WHERE key_id = ?", (key_id,)).fetchone()
    return None if row is None else _key(row)


def keys_of(conn: Connection, partner_id: str) -> list[KeyRecord]:
    rows = conn.execute(
        _KEY_SELECT + " WHERE partner_id = ? ORDER BY registered_at, key_id", (partner_id,)
    ).fetchall()
    return [_key(r) for r in rows]


def active_keys(conn: Connection, partner_id: str) -> list[KeyRecord]:
    rows = conn.execute(
        _KEY_SELECT + " WHERE partner_id = ? AND status = 'active' ORDER BY registered_at",
        (partner_id,),
    ).fetchall()
    return [_key(r) for r in rows]


def all_active_keys(conn: Connection) -> list[KeyRecord]:
    rows = conn.execute(_KEY_SELECT + " WHERE status = 'active' ORDER BY partner_id").fetchall()
    return [_key(r) for r in rows]
