"""Flask glue shared by the API and the console: the request's connection and instance."""

from __future__ import annotations

from flask import current_app, g

from gateway.instance import Instance
from gateway.store import Connection

EXTENSION_KEY = "sluis.instance"
API_KEY = "sluis.api"  # the flask-smorest Api, for registering blueprints


def current_instance() -> Instance:
    instance: Instance = current_app.extensions[EXTENSION_KEY]
    return instance


def request_connection() -> Connection:
    """The request's database connection, opened on first use and closed at teardown."""
    conn: Connection | None = g.get("sluis_db")
    if conn is None:
        conn = current_instance().database.connect()
        g.sluis_db = conn
    return conn


def close_request_connection(_exc: BaseException | None = None) -> None:
    conn: Connection | None = g.pop("sluis_db", None)
    if conn is not None:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        conn.close()
