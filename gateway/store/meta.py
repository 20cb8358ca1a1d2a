"""The ``gateway_meta`` table: facts about this gateway instance."""

from __future__ import annotations

from gateway.store.database import Connection


def set_meta(conn: Connection, name: str, value: str) -> None:
    conn.execute(
        "INSERT INTO gateway_meta (name, value) VALUES (?, ?) "
        "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        (name, value),
    )


def get_meta(conn: Connection, name: str) -> str | None:
    row = conn.execute("SELECT value FROM gateway_meta WHERE name = ?", (name,)).fetchone()
    return None if row is None else str(row[0])
