"""``gateway openapi``: write the shaped OpenAPI document, from an app on a throwaway instance.

The document depends on the code and the ``SLUIS_API_CONTACT_*`` settings only, so no real
instance (keys, database) is needed: CI runs this on a clean clone before linting it.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import click

from gateway.api.openapi import document
from gateway.app import create_app
from gateway.instance import init_instance, load_instance
from gateway.settings import Settings


def build_document(settings: Settings) -> str:
    """The document as JSON text, from an app built on a temporary instance."""
    with tempfile.TemporaryDirectory(prefix="sluis-openapi-") as tmp:
        temp = settings.with_changes(
            data_dir=Path(tmp) / "data", db_path=None, key_dir=Path(tmp) / "keys"
        )
        init_instance(temp)
        doc = document(create_app(temp, instance=load_instance(temp)))
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


@click.command()
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, allow_dash=True),
    default="-",
    show_default=True,
    help="File to write; - for standard output.",
)
def openapi(out: str) -> None:
    """Write the API's OpenAPI document (as served at /api/v1/openapi.json)."""
    text = build_document(Settings.from_env())
    if out == "-":
        click.echo(text, nl=False)
        return
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    click.echo(f"Wrote {path}", err=True)
