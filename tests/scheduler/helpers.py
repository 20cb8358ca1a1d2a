"""Helpers for scheduler tests: run a job at the world's time, read what it recorded."""

from __future__ import annotations

from typing import Any

from gateway.register.entry import decode_entry
from gateway.scheduler import runner
from gateway.scheduler.jobs import JobReport
from gateway.store import notices as notice_store
from gateway.store import register as register_store
from gateway.store.notices import Notice
from tests.api.world import World


def run(world: World, name: str, chunk: int = 500) -> JobReport:
    return runner.run_job(name, world.instance, now=world.clock(), chunk=chunk)


def events(world: World, kind: str) -> list[dict[str, Any]]:
    with world.instance.database.connection() as conn:
        found = []
        for rows in register_store.iter_entries(conn):
            for row in rows:
                entry = decode_entry(row[3])
                if entry["type"] == kind:
                    found.append(entry)
        return found


def notices(world: World, partner: str | None = None) -> list[Notice]:
    with world.instance.database.connection() as conn:
        return notice_store.list_notices(conn, partner=partner, after=0, limit=1000)
