"""``gateway user add|reset|role|list``: console accounts, created at the command line.

The first accounts can only be made here: the console has no page that creates an account
without one. The password is asked twice without echo (or read from standard input with
``--password-stdin``); the TOTP secret is printed once, with its provisioning URI and a QR code
for the authenticator app. Each change is recorded in the register with the operator's name.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from gateway.instance import load_instance
from gateway.keyfiles import write_secret
from gateway.register.entry import operator
from gateway.services import accounts
from gateway.settings import Settings
from gateway.store import users as user_store

_BY = click.option(
    "--by", "by", default="gateway-admin", show_default=True, help="Operator name recorded."
)
_STDIN = click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
)
_QR = click.option(
    "--qr-svg",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the QR code as an SVG file (0600; delete it after enrolment).",
)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    value: str = click.prompt(
        "Password (at least 12 characters)", hide_input=True, confirmation_prompt=True
    )
    return value


def _show(enrolment: accounts.Enrolment, qr_svg: Path | None) -> None:
    click.echo("Add this account to an authenticator app (the secret is shown only now):")
    click.echo(f"  TOTP secret:      {enrolment.totp_secret}")
    click.echo(f"  Provisioning URI: {enrolment.provisioning_uri}")
    click.echo(enrolment.qr_text())
    if qr_svg is not None:
        write_secret(qr_svg, enrolment.qr_svg().encode())
        click.echo(f"QR code written to {qr_svg} (0600): delete it once scanned.")


@click.group()
def user() -> None:
    """Console accounts: add, reset, change roles, list."""


@user.command()
@click.argument("username")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice(accounts.ROLES),
    help="fg, admin or auditor; repeat for several.",
)
@_STDIN
@_QR
@_BY
def add(
    username: str, roles: tuple[str, ...], password_stdin: bool, qr_svg: Path | None, by: str
) -> None:
    """Create USERNAME with a password and a new TOTP secret."""
    accounts.check_username(username)
    instance = load_instance(Settings.from_env())
    password = _password(password_stdin)
    with instance.database.connection() as conn:
        enrolment = accounts.add_user(
            conn,
            instance.register,
            username,
            frozenset(roles),
            password,
            now=datetime.now(UTC),
            actor=operator(by),
        )
    click.echo(f"Created {username} with role(s) {', '.join(sorted(set(roles)))}.")
    _show(enrolment, qr_svg)


@user.command()
@click.argument("username")
@_STDIN
@_QR
@_BY
def reset(username: str, password_stdin: bool, qr_svg: Path | None, by: str) -> None:
    """Give USERNAME a new password and TOTP secret; ends the user's sessions and lock."""
    instance = load_instance(Settings.from_env())
    password = _password(password_stdin)
    with instance.database.connection() as conn:
        enrolment = accounts.reset_user(
            conn, instance.register, username, password, now=datetime.now(UTC), actor=operator(by)
        )
    click.echo(f"Reset {username}: the old password and authenticator no longer work.")
    _show(enrolment, qr_svg)


@user.command()
@click.argument("username")
@click.option("--add", "add_roles", multiple=True, type=click.Choice(accounts.ROLES))
@click.option("--remove", "remove_roles", multiple=True, type=click.Choice(accounts.ROLES))
@_BY
def role(username: str, add_roles: tuple[str, ...], remove_roles: tuple[str, ...], by: str) -> None:
    """Add or remove roles of USERNAME; the user's sessions end."""
    if not add_roles and not remove_roles:
        raise click.UsageError("Give --add ROLE or --remove ROLE.")
    instance = load_instance(Settings.from_env())
    with instance.database.connection() as conn:
        roles = accounts.change_roles(
            conn,
            instance.register,
            username,
            add=frozenset(add_roles),
            remove=frozenset(remove_roles),
            now=datetime.now(UTC),
            actor=operator(by),
        )
    click.echo(f"{username} now has role(s): {', '.join(sorted(roles)) or 'none'}.")


@user.command(name="list")
def list_users() -> None:
    """Every console account with its roles."""
    instance = load_instance(Settings.from_env())
    with instance.database.connection() as conn:
        for name in user_store.list_usernames(conn):
            found = user_store.get_user(conn, name)
            roles = ", ".join(sorted(found.roles)) if found else ""
            click.echo(f"{name}\t{roles or '-'}")
