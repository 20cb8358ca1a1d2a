"""One scheduler per database: a lock row with a heartbeat.

A scheduler takes the lock at start-up inside a write transaction (BEGIN IMMEDIATE), so two
schedulers starting at once are serialised by the database and exactly one wins. The holder
refreshes its heartbeat every minute. A lock whose heartbeat is older than
SLUIS_SCHEDULER_STALE_MINUTES belongs to a scheduler that died without releasing it (a crash,
a killed machine) and may be taken over; a scheduler that finds its lock taken over stops.
"""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from gateway.errors import SluisError
from gateway.register.entry import iso_time
from gateway.store import Connection, transaction
from gateway.store import scheduler as store
from gateway.store.scheduler import LockRow


class SchedulerRunning(SluisError):
    """Another scheduler holds a fresh lock on this database."""

    code = "scheduler-running"
    title = "Scheduler already running"
    status = 409


@dataclass(frozen=True)
class Holder:
    """Who we are: a random id per process start, the host name and the process id."""

    id: str
    host: str
    pid: int

    @classmethod
    def here(cls) -> Holder:
        return cls(f"scheduler-{secrets.token_hex(8)}", socket.gethostname()[:255], os.getpid())


def acquire(conn: Connection, holder: Holder, *, now: datetime, stale_minutes: int) -> None:
    """Take the scheduler lock or raise SchedulerRunning naming the live holder."""
    stale_before = iso_time(now - timedelta(minutes=stale_minutes))
    with transaction(conn):
        other = store.take_lock(
            conn,
            holder=holder.id,
            host=holder.host,
            pid=holder.pid,
            now=iso_time(now),
            stale_before=stale_before,
        )
    if other is not None:
        raise SchedulerRunning(
            f"Another scheduler (host {other.host}, pid {other.pid}, last heartbeat "
            f"{other.heartbeat_at}) is running against this database: only one may run, so "
            f"this one stops (a lock without a heartbeat for {stale_minutes} minutes is taken "
            "over)."
        )


def heartbeat(conn: Connection, holder: Holder, *, now: datetime) -> bool:
    """Refresh our heartbeat; False when another scheduler took the lock over."""
    with transaction(conn):
        return store.beat(conn, holder.id, iso_time(now))


def release(conn: Connection, holder: Holder) -> bool:
    with transaction(conn):
        return store.release_lock(conn, holder.id)


def current(conn: Connection) -> LockRow | None:
    return store.get_lock(conn)
