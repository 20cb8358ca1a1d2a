"""The ``gateway`` command: administration of one gateway instance.

Every command reads its settings from the ``SLUIS_*`` environment variables. Any
:class:`~gateway.errors.SluisError` ends the command with its one-sentence message on stderr and
exit code 2, never a traceback.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from gateway import __version__
from gateway.cli import (
    demo_cmd,
    init_cmd,
    openapi_cmd,
    partner_cmd,
    policy_cmd,
    register_cmd,
    scheduler_cmd,
    serve_cmd,
    user_cmd,
)
from gateway.errors import SluisError

EXIT_ERROR = 2


class SluisGroup(click.Group):
    """A click group that turns Sluis errors into one clear sentence and exit code 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SluisError as error:
            click.echo(f"Error: {error.detail}", err=True)
            sys.exit(EXIT_ERROR)


@click.group(cls=SluisGroup)
@click.version_option(__version__, prog_name="gateway")
def cli() -> None:
    """Sluis gateway administration."""


cli.add_command(init_cmd.init)
cli.add_command(serve_cmd.serve)
cli.add_command(policy_cmd.policy)
cli.add_command(partner_cmd.partner)
cli.add_command(partner_cmd.key)
cli.add_command(register_cmd.register)
cli.add_command(openapi_cmd.openapi)
cli.add_command(demo_cmd.demo)
cli.add_command(scheduler_cmd.scheduler)
cli.add_command(scheduler_cmd.jobs)
cli.add_command(user_cmd.user)


def main() -> None:
    cli(prog_name="gateway")
