"""The job table, one run of a job by name, and the APScheduler process.

``gateway scheduler`` builds a BlockingScheduler (Europe/Amsterdam) with the jobs below and a
heartbeat, after taking the database's scheduler lock. Each run opens its own connection and
reads the policy files afresh, so an edited and published policy applies from the next run.
Logs carry job names and counts only, never a case or subject reference.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import FrameType
from typing import Any

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from gateway.errors import InvalidRequest
from gateway.instance import Instance
from gateway.policy import load_policy
from gateway.scheduler import jobs, lock
from gateway.scheduler.jobs import ZONE, JobContext, JobReport
from gateway.settings import Settings

Clock = Callable[[], datetime]
log = logging.getLogger("gateway.scheduler")
HEARTBEAT_SECONDS = 60


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class JobSpec:
    name: str
    description: str
    run: Callable[[JobContext], JobReport]
    trigger: Callable[[Settings], BaseTrigger]
    schedule: Callable[[Settings], str]


JOBS: dict[str, JobSpec] = {
    spec.name: spec
    for spec in (
        JobSpec(
            "retention",
            "Expire unacknowledged envelopes, purge sealed blobs, delete closed and idle cases, "
            "destroy old epoch keys.",
            jobs.run_retention,
            lambda s: CronTrigger(hour=2, minute=30, timezone=ZONE),
            lambda s: "daily at 02:30",
        ),
        JobSpec(
            "deadlines",
            "Warn about open cases past their state's deadline (working days).",
            jobs.run_deadlines,
            lambda s: CronTrigger(hour=7, minute=0, timezone=ZONE),
            lambda s: "daily at 07:00",
        ),
        JobSpec(
            "monthly-deliveries",
            "Warn landlords that delivered no signal batch by the monthly delivery day.",
            jobs.run_monthly_deliveries,
            lambda s: CronTrigger(hour=7, minute=15, timezone=ZONE),
            lambda s: "daily at 07:15",
        ),
        JobSpec(
            "checkpoints",
            "Sign a register checkpoint when the log grew.",
            jobs.run_checkpoints,
            lambda s: IntervalTrigger(minutes=s.checkpoint_minutes, timezone=ZONE),
            lambda s: f"every {s.checkpoint_minutes} minutes",
        ),
        JobSpec(
            "keys",
            "Warn before partner keys (and the gateway key) expire.",
            jobs.run_keys,
            lambda s: CronTrigger(hour=6, minute=45, timezone=ZONE),
            lambda s: "daily at 06:45",
        ),
    )
}


def job(name: str) -> JobSpec:
    found = JOBS.get(name)
    if found is None:
        raise InvalidRequest(f"There is no job '{name[:40]}': the jobs are {', '.join(JOBS)}.")
    return found


def run_job(name: str, instance: Instance, *, now: datetime, chunk: int = jobs.CHUNK) -> JobReport:
    """Run one job once, in its own connection, with the policy as the files say now."""
    spec = job(name)
    policy = load_policy(instance.settings.policy_dir)
    with instance.database.connection() as conn:
        return spec.run(JobContext(conn, instance, policy, now, chunk))


@dataclass(frozen=True)
class PlannedJob:
    name: str
    schedule: str
    next_run: datetime | None
    description: str


def planned(settings: Settings, *, now: datetime) -> list[PlannedJob]:
    """Every job with its schedule and its next run time after ``now``."""
    out = []
    for spec in JOBS.values():
        trigger = spec.trigger(settings)
        next_run = trigger.get_next_fire_time(None, now.astimezone(ZONE))
        out.append(PlannedJob(spec.name, spec.schedule(settings), next_run, spec.description))
    return out


def _scheduled(name: str, instance: Instance, clock: Clock) -> Callable[[], None]:
    def run() -> None:
        report = run_job(name, instance, now=clock())
        log.info("job %s", report.summary())

    return run


def build_scheduler(instance: Instance, clock: Clock = system_clock) -> BlockingScheduler:
    """A BlockingScheduler with every job; runs missed while down are coalesced into one."""
    scheduler = BlockingScheduler(
        timezone=ZONE,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
    )
    for spec in JOBS.values():
        scheduler.add_job(
            _scheduled(spec.name, instance, clock),
            spec.trigger(instance.settings),
            id=spec.name,
            name=spec.name,
        )
    return scheduler


def serve(instance: Instance, clock: Clock = system_clock) -> None:
    """Take the lock, run the scheduler until SIGTERM/SIGINT or the lock is lost, release."""
    holder = lock.Holder.here()
    stale = instance.settings.scheduler_stale_minutes
    with instance.database.connection() as conn:
        lock.acquire(conn, holder, now=clock(), stale_minutes=stale)
    scheduler = build_scheduler(instance, clock)

    def beat() -> None:
        with instance.database.connection() as conn:
            if not lock.heartbeat(conn, holder, now=clock()):
                log.error("scheduler lock taken over by another scheduler: stopping")
                scheduler.shutdown(wait=False)

    scheduler.add_job(beat, IntervalTrigger(seconds=HEARTBEAT_SECONDS), id="heartbeat")

    def stop(signum: int, frame: FrameType | None) -> None:
        del signum, frame
        scheduler.shutdown(wait=False)

    previous: dict[int, Any] = {
        sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)
    }
    log.info("scheduler %s started on %s (pid %d)", holder.id, holder.host, holder.pid)
    try:
        scheduler.start()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        with instance.database.connection() as conn:
            lock.release(conn, holder)
        log.info("scheduler %s stopped", holder.id)
