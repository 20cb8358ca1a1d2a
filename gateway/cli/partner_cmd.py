"""``gateway partner`` and ``gateway key``: the key directory, for the gateway admin."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from gateway.crypto.keys import PublicKeys
from gateway.instance import Instance, load_instance
from gateway.policy import load_policy
from gateway.services import key_directory as directory
from gateway.settings import Settings
from gateway.store import key_directory as store


def _instance() -> Instance:
    return load_instance(Settings.from_env())


def _now() -> datetime:
    return datetime.now(UTC)


def _show_key(record: store.KeyRecord) -> str:
    keys = PublicKeys(record.partner_id, record.ed25519, record.x25519)
    until = record.not_after or "-"
    return (
        f"  {record.key_id}  {record.status:8}  fingerprint {keys.fingerprint}  "
        f"valid {record.not_before} .. {until}"
    )


@click.group()
def partner() -> None:
    """Partners of the covenant known to this gateway."""


@partner.command("add")
@click.argument("partner_id")
@click.option("--by", "by", default="gateway-admin", show_default=True)
def partner_add(partner_id: str, by: str) -> None:
    """Register PARTNER_ID, which must be a party in the covenant policy."""
    instance = _instance()
    policy = load_policy(instance.settings.policy_dir)
    with instance.database.connection() as conn:
        record = directory.add_partner(
            conn, policy, partner_id, now=_now(), by=by, register=instance.register
        )
    click.echo(f"Added partner {record.id} ({record.name}).")
    click.echo(f"Next: gateway key register {record.id} PUBLIC_KEY_FILE")


@partner.command("list")
def partner_list() -> None:
    """List the partners with their number of active keys."""
    with _instance().database.connection() as conn:
        for record in store.list_partners(conn):
            active = len(store.active_keys(conn, record.id))
            click.echo(f"{record.id:42} {active} active key(s)  {record.name}")


@partner.command("show")
@click.argument("partner_id")
def partner_show(partner_id: str) -> None:
    """Show a partner and all its keys (active, rotated, revoked)."""
    with _instance().database.connection() as conn:
        record = store.get_partner(conn, partner_id)
        if record is None:
            raise click.ClickException(f"No partner '{partner_id}'.")
        click.echo(f"{record.id}: {record.name} (added {record.created_at} by {record.created_by})")
        for key in store.keys_of(conn, partner_id):
            click.echo(_show_key(key))


@click.group()
def key() -> None:
    """Partners' public keys: register, rotate, revoke."""


def _read_public(partner_id: str, path: str) -> PublicKeys:
    keys = PublicKeys.from_json(Path(path).read_bytes())
    if keys.partner != partner_id:
        raise click.ClickException(f"The key file is for '{keys.partner}', not '{partner_id}'.")
    return keys


def _confirm(keys: PublicKeys, yes: bool) -> None:
    click.echo(f"Partner:     {keys.partner}")
    click.echo(f"Fingerprint: {keys.fingerprint}")
    if not yes:
        click.confirm("Does the partner read you the same fingerprint?", abort=True)


@key.command("register")
@click.argument("partner_id")
@click.argument("public_key_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--not-after", type=click.DateTime(["%Y-%m-%d"]), help="Last day of validity.")
@click.option("--by", "by", default="gateway-admin", show_default=True)
@click.option("--yes", is_flag=True, help="Skip the fingerprint confirmation.")
def key_register(
    partner_id: str, public_key_file: str, not_after: datetime | None, by: str, yes: bool
) -> None:
    """Register a partner's public key after comparing fingerprints."""
    keys = _read_public(partner_id, public_key_file)
    _confirm(keys, yes)
    end = not_after.replace(hour=23, minute=59, second=59, tzinfo=UTC) if not_after else None
    instance = _instance()
    with instance.database.connection() as conn:
        record = directory.register_key(
            conn, keys, now=_now(), by=by, register=instance.register, not_after=end
        )
    click.echo(f"Registered key {record.key_id} for {partner_id}.")


@key.command("rotate")
@click.argument("partner_id")
@click.argument("new_public_key_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--by", "by", default="gateway-admin", show_default=True)
@click.option("--yes", is_flag=True, help="Skip the fingerprint confirmation.")
def key_rotate(partner_id: str, new_public_key_file: str, by: str, yes: bool) -> None:
    """Make a new key active; old keys stay to verify old messages."""
    keys = _read_public(partner_id, new_public_key_file)
    _confirm(keys, yes)
    instance = _instance()
    with instance.database.connection() as conn:
        record, previous = directory.rotate_key(
            conn, keys, now=_now(), by=by, register=instance.register
        )
    click.echo(f"Active key of {partner_id} is now {record.key_id}.")
    for old in previous:
        click.echo(f"Rotated (kept for old messages): {old.key_id}")


@key.command("revoke")
@click.argument("key_id")
@click.option(
    "--reason", required=True, help="Why, kept in the key directory (e.g. 'laptop stolen')."
)
@click.option("--by", "by", default="gateway-admin", show_default=True)
def key_revoke(key_id: str, reason: str, by: str) -> None:
    """Revoke a key at once: nothing signed with it is accepted any more."""
    instance = _instance()
    with instance.database.connection() as conn:
        record = directory.revoke_key(
            conn, key_id, now=_now(), reason=reason, by=by, register=instance.register
        )
    click.echo(f"Revoked key {record.key_id} of {record.partner_id}.")
