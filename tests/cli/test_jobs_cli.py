"""`gateway jobs list|run` and `gateway scheduler` as an operator meets them."""

from __future__ import annotations

from datetime import UTC, datetime

import time_machine
from click.testing import CliRunner

from gateway.cli import cli
from gateway.instance import Instance
from gateway.scheduler import lock
from gateway.scheduler.lock import Holder


def test_jobs_list_shows_each_job_with_its_next_run(gateway_env: dict[str, str]) -> None:
    with time_machine.travel(datetime(2026, 11, 24, 12, 0, tzinfo=UTC), tick=False):
        result = CliRunner().invoke(cli, ["jobs", "list"], env=gateway_env)
    assert result.exit_code == 0, result.output
    for name in ("retention", "deadlines", "monthly-deliveries", "checkpoints", "keys"):
        assert name in result.output
    assert "daily at 02:30         next 2026-11-25 02:30 CET" in result.output
    assert "every 10 minutes       next 2026-11-24 13:10 CET" in result.output


def test_jobs_run_prints_what_it_did(gateway_env: dict[str, str], instance: Instance) -> None:
    runner = CliRunner()
    with time_machine.travel(datetime(2026, 11, 24, 12, 0, tzinfo=UTC), tick=False):
        first = runner.invoke(cli, ["jobs", "run", "checkpoints"], env=gateway_env)
        again = runner.invoke(cli, ["jobs", "run", "checkpoints"], env=gateway_env)
        retention = runner.invoke(cli, ["jobs", "run", "retention"], env=gateway_env)
    assert first.exit_code == 0, first.output
    assert first.output.startswith("checkpoints: checkpoint signed at size")
    assert "has not grown" in again.output
    assert retention.output == "retention: nothing to do\n"
    del instance


def test_unknown_job_is_one_sentence_and_exit_2(gateway_env: dict[str, str]) -> None:
    result = CliRunner().invoke(cli, ["jobs", "run", "purge-everything"], env=gateway_env)
    assert result.exit_code == 2
    assert "There is no job 'purge-everything'" in result.output
    assert "Traceback" not in result.output


def test_second_scheduler_says_so_and_exits(
    gateway_env: dict[str, str], instance: Instance
) -> None:
    with instance.database.connection() as conn:
        lock.acquire(
            conn, Holder("scheduler-other", "host-1", 4242), now=datetime.now(UTC), stale_minutes=5
        )
    result = CliRunner().invoke(cli, ["scheduler"], env=gateway_env)
    assert result.exit_code == 2
    assert "Another scheduler (host host-1, pid 4242" in result.output
    assert "only one may run" in result.output
