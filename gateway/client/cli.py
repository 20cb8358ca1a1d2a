"""The ``gateway-client`` command. Its commands arrive with the partner client (issue 7)."""

from __future__ import annotations

import click

from gateway import __version__


@click.group()
@click.version_option(__version__, prog_name="gateway-client")
def cli() -> None:
    """Sluis partner client: seal, send and open covenant messages."""


def main() -> None:
    cli(prog_name="gateway-client")
