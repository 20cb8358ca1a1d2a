"""One scheduler per database: exactly one of two wins, a stale lock is taken over."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from gateway.instance import Instance
from gateway.scheduler import lock
from gateway.scheduler.lock import Holder, SchedulerRunning

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def test_second_scheduler_is_refused_while_the_first_beats(instance: Instance) -> None:
    first, second = Holder("scheduler-a", "host-a", 101), Holder("scheduler-b", "host-b", 202)
    with instance.database.connection() as conn:
        lock.acquire(conn, first, now=NOW, stale_minutes=5)
        with pytest.raises(SchedulerRunning, match="host-a, pid 101"):
            lock.acquire(conn, second, now=NOW + timedelta(minutes=4), stale_minutes=5)
        assert lock.heartbeat(conn, first, now=NOW + timedelta(minutes=4))
        with pytest.raises(SchedulerRunning):
            lock.acquire(conn, second, now=NOW + timedelta(minutes=8), stale_minutes=5)
        held = lock.current(conn)
        assert held is not None
        assert held.holder == "scheduler-a"


def test_a_stale_lock_is_taken_over_and_the_old_holder_learns_it(instance: Instance) -> None:
    first, second = Holder("scheduler-a", "host-a", 101), Holder("scheduler-b", "host-b", 202)
    with instance.database.connection() as conn:
        lock.acquire(conn, first, now=NOW, stale_minutes=5)
        lock.acquire(conn, second, now=NOW + timedelta(minutes=6), stale_minutes=5)
        assert not lock.heartbeat(conn, first, now=NOW + timedelta(minutes=7))
        assert not lock.release(conn, first)  # releasing never frees someone else's lock
        assert lock.release(conn, second)
        assert lock.current(conn) is None
        lock.acquire(conn, first, now=NOW + timedelta(minutes=8), stale_minutes=5)


def test_two_schedulers_starting_at_once_exactly_one_wins(instance: Instance) -> None:
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def start(name: str) -> None:
        with instance.database.connection() as conn:
            barrier.wait()
            try:
                lock.acquire(conn, Holder(name, "host", 1), now=NOW, stale_minutes=5)
                outcomes[name] = "won"
            except SchedulerRunning:  # the other one was first: the expected loser
                outcomes[name] = "refused"

    threads = [threading.Thread(target=start, args=(n,)) for n in ("scheduler-a", "scheduler-b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes.values()) == ["refused", "won"]
    with instance.database.connection() as conn:
        held = lock.current(conn)
    assert held is not None
    assert outcomes[held.holder] == "won"
