"""``gateway serve``: check everything, then run gunicorn."""

from __future__ import annotations

import click

from gateway.app import create_app
from gateway.logs import configure_logging
from gateway.serving import GatewayServer
from gateway.settings import Settings


@click.command()
@click.option(
    "--hint",
    "hints",
    multiple=True,
    hidden=True,
    help="One more line for what to try (`make run` adds the demo walk).",
)
def serve(hints: tuple[str, ...]) -> None:
    """Start the gateway under gunicorn on SLUIS_BIND."""
    settings = Settings.from_env()
    configure_logging(settings.log_level_number)
    app = create_app(settings)  # raises StartupError with one sentence before any fork
    host_port = settings.bind
    click.echo(f"Sluis gateway listening on http://{host_port}")
    click.echo(f"  Health:   curl http://{host_port}/api/v1/health")
    click.echo(f"  OpenAPI:  http://{host_port}/api/v1/openapi.json")
    click.echo(f"  API docs: http://{host_port}/api/v1/docs")
    click.echo(f"  Console:  http://{host_port}/console/  (accounts: gateway user add)")
    for hint in hints:
        click.echo(f"  {hint}")
    click.echo("  Stop with Ctrl-C.")
    GatewayServer(app, settings).run()
