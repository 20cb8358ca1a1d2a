"""``gateway policy``: check, print the matrix, diff and publish the covenant policy."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from pathlib import Path

import click

from gateway.policy import PolicyInvalid, load_policy
from gateway.policy import diff as policy_diff
from gateway.policy import matrix as policy_matrix
from gateway.settings import Settings


def _policy_dir(directory: str | None) -> Path:
    return Path(directory) if directory else Settings.from_env().policy_dir


@click.group()
def policy() -> None:
    """The covenant's policy files."""


@policy.command()
@click.argument("directory", required=False)
def check(directory: str | None) -> None:
    """Validate the policy files; print every problem as file:line: message."""
    folder = _policy_dir(directory)
    try:
        loaded = load_policy(folder)
    except PolicyInvalid as invalid:
        for problem in invalid.problems:
            click.echo(f"{folder}/{problem}", err=True)
        click.echo(f"{len(invalid.problems)} problem(s).", err=True)
        sys.exit(1)
    click.echo(
        f"{folder}: {len(loaded.flows)} flows, {len(loaded.fields)} fields, "
        f"{len(loaded.parties)} parties: valid. Version {loaded.version_id}"
    )


@policy.command()
@click.option("--dir", "directory", help="Policy folder (default: SLUIS_POLICY_DIR).")
@click.option("--flow", "flow_id", help="Only this flow.")
@click.option("--format", "fmt", type=click.Choice(["text", "csv", "html"]), default="text")
@click.option("--out", type=click.Path(dir_okay=False), help="Write to this file.")
def matrix(directory: str | None, flow_id: str | None, fmt: str, out: str | None) -> None:
    """Print the data-sharing matrix: for each flow, the fields by recipient."""
    loaded = load_policy(_policy_dir(directory))
    if flow_id is not None and flow_id not in loaded.flows:
        raise click.BadParameter(f"no flow '{flow_id}'; flows: {', '.join(loaded.flows)}")
    matrices = policy_matrix.build(loaded, flow_id)
    render = {
        "text": policy_matrix.render_text,
        "csv": policy_matrix.render_csv,
        "html": policy_matrix.render_html,
    }[fmt]
    text = render(loaded, matrices)
    if out:
        Path(out).write_text(text, encoding="utf-8", newline="")
        click.echo(f"Wrote {out}")
    else:
        click.echo(text, nl=False)


@policy.command()
@click.argument("old", type=click.Path(exists=True, file_okay=False))
@click.argument("new", type=click.Path(exists=True, file_okay=False))
def diff(old: str, new: str) -> None:
    """Show what changes from policy folder OLD to policy folder NEW."""
    changes = policy_diff.diff(load_policy(Path(old)), load_policy(Path(new)))
    for change in changes:
        click.echo(str(change))
    click.echo(f"{len(changes)} change(s).")


@policy.command()
@click.option("--effective-from", type=click.DateTime(["%Y-%m-%d"]), help="Default: today.")
@click.option("--by", "published_by", default="gateway-admin", show_default=True)
@click.option("--label", default="", help="A short note for the version history.")
def publish(effective_from: datetime | None, published_by: str, label: str) -> None:
    """Sign the policy in SLUIS_POLICY_DIR with the gateway key and store the version."""
    from gateway.instance import load_instance
    from gateway.services.policy_publishing import publish as publish_policy

    settings = Settings.from_env()
    instance = load_instance(settings)
    loaded = load_policy(settings.policy_dir)
    now = datetime.now(UTC)
    start: date = effective_from.date() if effective_from else now.date()
    with instance.database.connection() as conn:
        result = publish_policy(
            conn,
            loaded,
            instance.signing_key,
            now=now,
            effective_from=start,
            published_by=published_by,
            register=instance.register,
            label=label,
        )
    state = "Published" if result.newly_published else "Already published"
    click.echo(f"{state}: version {result.version.version_id}")
    click.echo(
        f"Effective from {result.version.effective_from}; "
        f"signed by {result.version.key_fingerprint}"
    )
