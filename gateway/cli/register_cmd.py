"""``gateway register``: verify, export for the AP, subject access, checkpoints, epoch keys."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from gateway.crypto.note import NoteVerifier
from gateway.instance import Instance, load_instance
from gateway.policy import load_policy
from gateway.register.entry import operator
from gateway.register.export import FORMATS, verify_export, write_export
from gateway.services import register_admin
from gateway.settings import Settings

EXIT_TAMPERED = 1


def _instance() -> Instance:
    return load_instance(Settings.from_env())


def _now() -> datetime:
    return datetime.now(UTC)


@click.group()
def register() -> None:
    """The processing register: append-only, verifiable, exported for the AP."""


@register.command()
@click.argument("export_dir", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--db", "use_db", is_flag=True, help="Verify the gateway's own database.")
@click.option("--key", "vkey", help="Pin the gateway's verifier key (NAME+ID+KEY).")
@click.option(
    "--previous",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="The previous export folder: check this export continues it.",
)
@click.option(
    "--checkpoint",
    "kept",
    multiple=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="With --db: a checkpoint note kept outside the gateway (a partner's); repeatable.",
)
def verify(
    export_dir: Path | None,
    use_db: bool,
    vkey: str | None,
    previous: Path | None,
    kept: tuple[Path, ...],
) -> None:
    """Recompute the tree, check every signature and proof; name the first mismatch.

    Exit 0 when everything verifies, 1 when something does not (the message says what and
    where), 2 on a usage error.
    """
    from gateway.errors import SluisError

    if use_db == (export_dir is not None):
        raise click.UsageError("Give either EXPORT_DIR or --db.")
    if kept and not use_db:
        raise click.UsageError("--checkpoint goes with --db.")
    try:
        if use_db:
            instance = _instance()
            with instance.database.connection() as conn:
                report = register_admin.verify_database(
                    conn, instance.register, [path.read_text() for path in kept]
                )
            click.echo(
                f"Register verified: {report.entries} entries, {report.nodes} subtree hashes, "
                f"{report.checkpoints} signed checkpoints."
            )
            click.echo(f"Tree head: {report.root.hex()}")
            return
        assert export_dir is not None  # noqa: S101 - checked just above
        pinned = NoteVerifier.from_vkey(vkey) if vkey else None
        result = verify_export(export_dir, pinned=pinned, previous=previous)
    except SluisError as error:
        if error.code in ("register-tampered", "export-invalid", "merkle-proof-invalid"):
            click.echo(f"NOT VERIFIED: {error.detail}", err=True)
            sys.exit(EXIT_TAMPERED)
        raise
    click.echo(
        f"Export verified: {result.files} files, entries {result.first}..{result.end - 1} "
        f"of a signed tree of {result.size}."
    )
    if result.previous_size:
        click.echo(f"Consistent with the previous export's tree of {result.previous_size}.")
    click.echo(f"Signed by {result.verifier.vkey}")
    if pinned is None:
        click.echo("Compare this key with the gateway's published key (or pass --key).")


@register.command()
@click.option("--from", "period_from", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--to", "period_to", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="pdf", show_default=True)
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--by", "by", default="gateway-admin", show_default=True)
def export(period_from: datetime, period_to: datetime, fmt: str, out: Path, by: str) -> None:
    """Write the AP export for a period (dates inclusive, UTC) to a new folder OUT."""
    instance = _instance()
    policy = load_policy(instance.settings.policy_dir)
    with instance.database.connection() as conn:
        result = write_export(
            conn,
            instance.register,
            policy,
            period=(period_from.date(), period_to.date()),
            fmt=fmt,
            out=out,
            now=_now(),
            actor=operator(by),
        )
    count = result.end - result.first
    click.echo(f"Wrote {out}: {count} entries of the period, tree of {result.size} signed.")
    for name in result.files:
        click.echo(f"  {name}")
    click.echo(f"Check it with: gateway register verify {out}")


@register.command()
@click.argument("subject_ref")
@click.option("--by", "by", default="fg", show_default=True)
def subject(subject_ref: str, by: str) -> None:
    """Subject access (art. 15): every event about SUBJECT_REF; the query is recorded."""
    instance = _instance()
    with instance.database.connection() as conn:
        found = register_admin.subject_access(
            conn, instance.register, subject_ref, now=_now(), actor=operator(by)
        )
    click.echo(
        f"{len(found.entries)} event(s) about this subject in {len(found.epochs_searched)} "
        "period(s) whose pseudonym keys still exist."
    )
    for entry in found.entries:
        click.echo(f"- {entry.get('time')}  {entry.get('type')}  flow {entry.get('flow', '-')}")
        if "sender" in entry:
            click.echo(f"    from {entry['sender']}")
        for recipient in entry.get("recipients", []):
            fields = ", ".join(recipient.get("fields", []))
            basis = recipient.get("legalBasis", "")
            click.echo(f"    to {recipient.get('party')} ({recipient.get('role')}): {fields}")
            if basis:
                click.echo(f"       legal basis: {basis}")
        if "case" in entry:
            click.echo(f"    case {entry['case']}, outcome {entry.get('outcome')}")


@register.command()
@click.option("--force", is_flag=True, help="Sign even when the log has not grown.")
def checkpoint(force: bool) -> None:
    """Sign a checkpoint of the register now (the scheduler does this every few minutes)."""
    instance = _instance()
    with instance.database.connection() as conn:
        signed = register_admin.sign_checkpoint(conn, instance.register, now=_now(), force=force)
    if signed is None:
        click.echo("The register has not grown since the last checkpoint: nothing signed.")
        return
    click.echo(signed.note, nl=False)


@register.command("retire-epochs")
@click.option("--by", "by", default="gateway-admin", show_default=True)
def retire_epochs(by: str) -> None:
    """Destroy pseudonym keys of periods whose retention has ended (per covenant.yaml)."""
    instance = _instance()
    policy = load_policy(instance.settings.policy_dir)
    with instance.database.connection() as conn:
        retired = register_admin.retire_epochs(
            conn, instance.register, policy, now=_now(), actor=operator(by)
        )
    if not retired:
        click.echo("No period has passed its retention: no key destroyed.")
    for epoch in retired:
        click.echo(f"Destroyed the pseudonym key of {epoch}: its subjects are now unlinkable.")
