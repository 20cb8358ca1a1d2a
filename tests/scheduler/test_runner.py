"""The APScheduler process: every job scheduled, the lock held while it runs, released after."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from apscheduler.schedulers.blocking import BlockingScheduler

from gateway.instance import Instance
from gateway.scheduler import lock, runner

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def test_build_scheduler_has_every_job(instance: Instance) -> None:
    scheduler = runner.build_scheduler(instance, lambda: NOW)
    assert sorted(j.id for j in scheduler.get_jobs()) == sorted(runner.JOBS)


def test_serve_holds_the_lock_runs_jobs_and_releases(
    instance: Instance, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, object] = {}

    def start(self: BlockingScheduler, *args: object, **kwargs: object) -> None:
        with instance.database.connection() as conn:
            seen["holder"] = lock.current(conn)
        for job in self.get_jobs():
            job.func()  # each job once, the heartbeat included
        seen["jobs"] = sorted(j.id for j in self.get_jobs())

    monkeypatch.setattr(BlockingScheduler, "start", start)
    runner.serve(instance, lambda: NOW)
    assert seen["holder"] is not None
    assert seen["jobs"] == sorted([*runner.JOBS, "heartbeat"])
    with instance.database.connection() as conn:
        assert lock.current(conn) is None
