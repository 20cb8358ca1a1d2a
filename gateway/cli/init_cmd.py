"""``gateway init``: create the key files and the encrypted database."""

from __future__ import annotations

import click

from gateway.instance import init_instance
from gateway.settings import Settings


@click.command()
@click.option("--force", is_flag=True, help="Start a new instance; old files are set aside.")
def init(force: bool) -> None:
    """Create keys/db.key, the gateway signing key and the database."""
    settings = Settings.from_env()
    report = init_instance(settings, force=force)
    for moved in report.set_aside:
        click.echo(f"Set aside {moved}")
    click.echo(f"Database key:          {report.db_key_path} (0600)")
    click.echo(f"Gateway signing key:   {report.signing_key_path} (0600)")
    click.echo(f"Database:              {report.database_path} (encrypted)")
    click.echo(f"Signing key fingerprint: {report.signing_fingerprint}")
    click.echo("Give this fingerprint to partners: their clients pin it.")
