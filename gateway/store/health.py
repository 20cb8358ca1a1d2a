"""What the health endpoint asks of the store."""

from __future__ import annotations

from gateway.store.database import Connection
from gateway.store.migrations import schema_version


def store_status(conn: Connection) -> dict[str, int]:
    """Return the schema version after a real read through the encryption layer."""
    conn.execute("SELECT count(*) FROM gateway_meta").fetchone()
    return {"schemaVersion": schema_version(conn)}
