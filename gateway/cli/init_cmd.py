"""``gateway init``: create the key files and the encrypted database."""

from __future__ import annotations

import click

from gateway.errors import KeyFileError
from gateway.instance import init_instance, write_console_secret
from gateway.settings import Settings


@click.command()
@click.option("--force", is_flag=True, help="Start a new instance; old files are set aside.")
@click.option(
    "--console-key",
    is_flag=True,
    help="Only create the console session key of an instance made before the console.",
)
def init(force: bool, console_key: bool) -> None:
    """Create keys/db.key, the gateway signing key, the console session key and the database."""
    settings = Settings.from_env()
    if console_key:
        if settings.console_secret_path.exists():
            raise KeyFileError(f"{settings.console_secret_path} already exists.")
        write_console_secret(settings.console_secret_path)
        click.echo(f"Console session key:   {settings.console_secret_path} (0600)")
        return
    report = init_instance(settings, force=force)
    for moved in report.set_aside:
        click.echo(f"Set aside {moved}")
    click.echo(f"Database key:          {report.db_key_path} (0600)")
    click.echo(f"Gateway signing key:   {report.signing_key_path} (0600)")
    click.echo(f"Console session key:   {settings.console_secret_path} (0600)")
    click.echo(f"Database:              {report.database_path} (encrypted)")
    click.echo(f"Signing key fingerprint: {report.signing_fingerprint}")
    click.echo("Give this fingerprint to partners: their clients pin it.")
