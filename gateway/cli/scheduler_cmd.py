"""``gateway scheduler`` (the job process) and ``gateway jobs list|run``."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from gateway.instance import load_instance
from gateway.logs import configure_logging
from gateway.policy import load_policy
from gateway.scheduler import runner
from gateway.settings import Settings


def _now() -> datetime:
    return datetime.now(UTC)


@click.command()
def scheduler() -> None:
    """Run the scheduled jobs (retention, deadlines, deliveries, checkpoints, keys).

    A process of its own, beside `gateway serve`; only one may run per database.
    """
    settings = Settings.from_env()
    configure_logging(settings.log_level_number)
    instance = load_instance(settings)
    load_policy(settings.policy_dir)  # an invalid policy stops the start, not the first job
    click.echo("Sluis scheduler started; jobs:")
    for job in runner.planned(settings, now=_now()):
        click.echo(f"  {job.name:<20} {job.schedule}")
    click.echo("  Stop with Ctrl-C.")
    runner.serve(instance)


@click.group()
def jobs() -> None:
    """The scheduler's jobs: list them, or run one once by hand."""


@jobs.command("list")
def list_jobs() -> None:
    """Each job, its schedule and its next run time (Europe/Amsterdam)."""
    settings = Settings.from_env()
    for job in runner.planned(settings, now=_now()):
        when = "-" if job.next_run is None else job.next_run.strftime("%Y-%m-%d %H:%M %Z")
        click.echo(f"{job.name:<20} {job.schedule:<22} next {when}")
        click.echo(f"{'':<20} {job.description}")


@jobs.command("run")
@click.argument("name")
def run(name: str) -> None:
    """Run job NAME once now and print what it did (safe beside a running scheduler)."""
    runner.job(name)  # an unknown name is refused before anything is opened
    instance = load_instance(Settings.from_env())
    report = runner.run_job(name, instance, now=_now())
    click.echo(report.summary())
