"""Flask glue shared by the API and the console: the request's connection and instance.

Each worker thread keeps one keyed SQLCipher connection and reuses it for its requests:
opening one costs the pragmas, and closing the last one checkpoints the WAL, together about
5 ms a request. A request never sees another's transaction: teardown rolls back whatever a
failed request left open. Connections are made lazily, so none crosses gunicorn's fork.
"""

from __future__ import annotations

import os
import threading

from flask import Flask, current_app, g

from gateway.instance import Instance
from gateway.store import Connection

EXTENSION_KEY = "sluis.instance"
POOL_KEY = "sluis.connections"
API_KEY = "sluis.api"  # the flask-smorest Api, for registering blueprints


def current_instance() -> Instance:
    instance: Instance = current_app.extensions[EXTENSION_KEY]
    return instance


class ThreadConnections:
    """One connection per (process, thread), opened on first use."""

    def __init__(self) -> None:
        self._local = threading.local()

    def get(self, instance: Instance) -> Connection:
        held: tuple[int, Connection] | None = getattr(self._local, "held", None)
        if held is None or held[0] != os.getpid():
            held = (os.getpid(), instance.database.connect())
            self._local.held = held
        return held[1]

    def drop(self) -> None:
        held: tuple[int, Connection] | None = getattr(self._local, "held", None)
        self._local.held = None
        if held is not None and held[0] == os.getpid():
            held[1].close()


def install_connections(app: Flask) -> None:
    app.extensions[POOL_KEY] = ThreadConnections()
    app.teardown_appcontext(release_request_connection)


def request_connection() -> Connection:
    """The request's database connection: this worker thread's, reused across requests."""
    conn: Connection | None = g.get("sluis_db")
    if conn is None:
        pool: ThreadConnections = current_app.extensions[POOL_KEY]
        conn = pool.get(current_instance())
        g.sluis_db = conn
    return conn


def release_request_connection(_exc: BaseException | None = None) -> None:
    """End of request: roll back anything left open; on a broken connection, drop it."""
    conn: Connection | None = g.pop("sluis_db", None)
    if conn is None:
        return
    try:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
    except Exception:  # any failure here means the connection is broken: never reuse it
        current_app.extensions[POOL_KEY].drop()
