"""The ``gateway-client`` command: what landlords, the municipality and AMW run.

Every error is one sentence (Dutch staff read them) and exit code 2; a message that does not
verify is exit code 1. The profile is ``./sluis-profile.json`` or ``--profile`` or the
``GATEWAY_CLIENT_PROFILE`` environment variable.
"""

from __future__ import annotations

import json
import secrets
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from gateway import __version__
from gateway.client import reading
from gateway.client.errors import ClientError, ProfileError
from gateway.client.journal import Journal, journal_key
from gateway.client.profile import Profile, check_url, load_profile, save_profile
from gateway.client.receipts import verify_receipt_file
from gateway.client.sending import Outgoing, check_projections, send
from gateway.client.session import Session
from gateway.client.signal_list import ListRun, send_list, write_letters
from gateway.client.spreadsheet import render_csv, render_text
from gateway.client.trust import (
    cached_directory,
    cached_policy,
    pull_directory,
    pull_policy,
)
from gateway.crypto import fingerprint
from gateway.crypto.keys import (
    KdfLimits,
    PartnerKeyPair,
    read_private_key_file,
    write_key_files,
)
from gateway.errors import SluisError
from gateway.keyfiles import read_secret, write_secret

EXIT_ERROR = 2
EXIT_NOT_VALID = 1
DEFAULT_PROFILE = "sluis-profile.json"


class ClientGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except reading.MismatchReported as error:
            click.echo(f"NIET GELDIG / NOT VALID: {error.detail}", err=True)
            sys.exit(EXIT_NOT_VALID)
        except SluisError as error:
            click.echo(f"Fout / Error: {error.detail}", err=True)
            sys.exit(EXIT_ERROR)


@dataclass
class Context:
    profile_path: Path
    passphrase_file: Path | None
    clock: Callable[[], datetime]
    session_factory: Callable[[Profile, PartnerKeyPair], Session] | None = None

    def profile(self) -> Profile:
        if not self.profile_path.exists():
            raise ProfileError(
                f"No profile at {self.profile_path}: run `gateway-client init` first, or pass "
                "--profile."
            )
        return load_profile(self.profile_path)

    def passphrase(self, prompt: str = "Wachtwoordzin voor de sleutel / key passphrase") -> str:
        if self.passphrase_file is not None:
            text = read_secret(self.passphrase_file, what="passphrase file")
            return text.decode("utf-8").rstrip("\n")
        value: str = click.prompt(prompt, hide_input=True)
        return value

    def keys(self, profile: Profile) -> PartnerKeyPair:
        pair = read_private_key_file(profile.key_file, self.passphrase())
        if pair.partner != profile.partner:
            raise ProfileError(
                f"The key file {profile.key_file} belongs to '{pair.partner}', not to "
                f"'{profile.partner}'."
            )
        return pair

    def session(self, profile: Profile, keys: PartnerKeyPair) -> Session:
        if self.session_factory is not None:
            return self.session_factory(profile, keys)

        def tell(attempt: int, delay: float, why: str) -> None:
            click.echo(
                f"Gateway niet bereikbaar ({why}); nieuwe poging over {delay:.0f} s "
                f"[gateway unreachable, retry {attempt}]",
                err=True,
            )

        return Session(profile.gateway_url, keys, clock=self.clock, on_retry=tell)


pass_context = click.make_pass_decorator(Context)


@click.group(cls=ClientGroup)
@click.version_option(__version__, prog_name="gateway-client")
@click.option(
    "--profile",
    "profile_path",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="GATEWAY_CLIENT_PROFILE",
    default=DEFAULT_PROFILE,
    show_default=True,
    help="The partner profile file.",
)
@click.option(
    "--passphrase-file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Read the key passphrase from this 0600 file instead of asking.",
)
@click.pass_context
def cli(ctx: click.Context, profile_path: Path, passphrase_file: Path | None) -> None:
    """Sluis partner client: seal, send and open covenant messages."""
    if ctx.obj is None:
        ctx.obj = Context(profile_path, passphrase_file, lambda: datetime.now(UTC))
    else:  # tests pass a prepared Context (clock, transport)
        ctx.obj.profile_path = profile_path
        ctx.obj.passphrase_file = passphrase_file or ctx.obj.passphrase_file


def _gateway_key(value: str) -> bytes:
    path = Path(value)
    text = path.read_text().strip() if path.is_file() else value.strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise ClientError(
            "The gateway key is 64 hexadecimal characters (the file gateway-signing.pub the "
            "gateway administrator gives you)."
        )
    return key


@cli.command()
@click.option("--gateway", "gateway_url", required=True, help="e.g. https://sluis.weert.nl")
@click.option("--partner", required=True, help="Your partner id in the covenant.")
@click.option("--gateway-key", required=True, help="gateway-signing.pub (file or hex).")
@click.option("--cheap-kdf", is_flag=True, hidden=True, help="Tests only.")
@pass_context
def init(obj: Context, gateway_url: str, partner: str, gateway_key: str, cheap_kdf: bool) -> None:
    """Create the profile and your key pair; print the fingerprints to compare by phone."""
    path = obj.profile_path.resolve()
    if path.exists():
        raise ProfileError(f"{path} exists already: keep it, or choose another --profile.")
    url = check_url(gateway_url)
    key = _gateway_key(gateway_key)
    passphrase = obj.passphrase("Nieuwe wachtwoordzin / new key passphrase")
    if obj.passphrase_file is None:
        again = click.prompt("Herhaal / repeat", hide_input=True)
        if again != passphrase:
            raise ClientError("The two passphrases differ: nothing was created.")
    if len(passphrase) < 12 and not cheap_kdf:
        raise ClientError("Choose a passphrase of at least 12 characters.")
    pair = PartnerKeyPair.generate(partner)
    limits = KdfLimits.cheap() if cheap_kdf else KdfLimits()
    private, public = write_key_files(
        pair, path.parent, passphrase, limits=limits, created=obj.clock()
    )
    profile = Profile(path, url, partner, private, key)
    write_secret(profile.subject_secret_file, secrets.token_bytes(32).hex().encode() + b"\n")
    save_profile(profile)
    click.echo(f"Profiel / profile: {path}")
    click.echo(f"Uw sleutel / your key: {private} (0600, met wachtwoordzin)")
    click.echo(f"Geef aan de gateway-beheerder / give the gateway admin: {public}")
    click.echo(f"  vingerafdruk / fingerprint: {pair.public.fingerprint}")
    click.echo(f"Gateway-sleutel vastgezet / gateway key pinned: {fingerprint('ed25519', key)}")
    click.echo("Vergelijk beide vingerafdrukken telefonisch met de beheerder.")


@cli.group()
def policy() -> None:
    """The covenant policy, signed by the gateway."""


@policy.command("pull")
@pass_context
def policy_pull(obj: Context) -> None:
    """Fetch the policy, verify the gateway's signature, keep it for sealing."""
    profile = obj.profile()
    trusted = pull_policy(obj.session(profile, obj.keys(profile)), profile, obj.clock())
    click.echo(f"Beleid geverifieerd / policy verified: {trusted.policy.version_id}")


@cli.group()
def directory() -> None:
    """The partner directory (public keys), signed by the gateway."""


@directory.command("pull")
@pass_context
def directory_pull(obj: Context) -> None:
    """Fetch the partner directory, verify the gateway's signature, keep it."""
    profile = obj.profile()
    found = pull_directory(obj.session(profile, obj.keys(profile)), profile, obj.clock())
    click.echo(f"Partnerlijst geverifieerd / directory verified: {len(found.partners)} partners")


@cli.command()
@click.option("--flow")
@click.option(
    "--state", type=click.Choice(["pending", "delivered", "acknowledged", "expired"]), multiple=True
)
@click.option("--limit", type=click.IntRange(1, 500), default=100, show_default=True)
@pass_context
def inbox(obj: Context, flow: str | None, state: tuple[str, ...], limit: int) -> None:
    """Your envelopes: priority cases first, then oldest first (metadata only)."""
    profile = obj.profile()
    session = obj.session(profile, obj.keys(profile))
    cursor = None
    shown = 0
    while True:
        page = reading.inbox(
            session, flow=flow, state=list(state) or None, cursor=cursor, limit=limit
        )
        for item in page["items"]:
            mark = "VOORRANG" if item["priority"] else ""
            click.echo(
                f"{item['messageId']}  {item['receivedAt'][:16]}  {item['flow']:22} "
                f"van {item['sender']:38} zaak {item['caseRef']}  {item['state']:10} {mark}"
            )
            shown += 1
        cursor = page.get("nextCursor")
        if not cursor:
            break
    click.echo(f"{shown} bericht(en) / message(s).")


@cli.command("open")
@click.argument("message_id")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), required=True)
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json")
@pass_context
def open_command(obj: Context, message_id: str, out: Path, fmt: str) -> None:
    """Fetch, verify and decrypt one envelope into a 0600 file (a mismatch is reported)."""
    if out.exists():
        raise ClientError(f"{out} exists: choose a new file (opened messages are never merged).")
    profile = obj.profile()
    keys = obj.keys(profile)
    session = obj.session(profile, keys)
    found = _directory(obj, profile, session)
    message = reading.open_message(session, keys, found, message_id)
    reading.write_opened(message, out, fmt)
    click.echo(
        f"Geopend en geverifieerd / opened and verified: {message.flow} van {message.sender}, "
        f"zaak {message.case_ref}: {len(message.fields)} velden in {out} (0600)."
    )


@cli.command()
@click.argument("message_id")
@pass_context
def ack(obj: Context, message_id: str) -> None:
    """Confirm you received and opened an envelope."""
    profile = obj.profile()
    result = reading.acknowledge(obj.session(profile, obj.keys(profile)), message_id)
    click.echo(f"Bevestigd / acknowledged: {result['messageId']} ({result['state']}).")


@cli.command()
@click.argument("flow")
@click.option("--case", "case_ref", required=True, help="The case reference (case-...).")
@click.option("--to", "recipients", multiple=True, required=True, help="Recipient partner id.")
@click.option(
    "--fields",
    "fields_file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    required=True,
    help="JSON object of field values; each recipient gets only what the covenant allows.",
)
@click.option("--priority/--no-priority", default=None, help="Household with minor children.")
@pass_context
def reply(
    obj: Context,
    flow: str,
    case_ref: str,
    recipients: tuple[str, ...],
    fields_file: Path,
    priority: bool | None,
) -> None:
    """Send a covenant flow on a case: routing, feedback, referral, withholding, closure."""
    try:
        values = json.loads(fields_file.read_text())
    except ValueError:
        raise ClientError(f"{fields_file} is not a JSON object of field values.") from None
    if not isinstance(values, dict):
        raise ClientError(f"{fields_file} is not a JSON object of field values.")
    profile = obj.profile()
    keys = obj.keys(profile)
    session = obj.session(profile, keys)
    trusted = _policy(obj, profile, session)
    found = _directory(obj, profile, session)
    routing = {} if priority is None else {"priority": priority}
    item = Outgoing(
        journal_key(profile.partner, flow, case_ref, obj.clock().isoformat()),
        f"{flow} {case_ref}",
        flow,
        values,
        tuple(sorted(set(recipients))),
        case_ref=case_ref,
        routing=routing,
    )
    problems = check_projections(trusted.policy, item, obj.clock())
    for partner, problem in problems:
        click.echo(
            f"{partner}: {problem.field}: {problem.message_nl} ({problem.message_en})", err=True
        )
    if problems:
        raise ClientError(f"{len(problems)} problem(s): nothing was sent.")
    journal = Journal(profile.state_dir / "journal")
    report = send(
        session, journal, [item], keys=keys, policy=trusted.policy, directory=found, now=obj.clock
    )
    _print_outcome(report.accepted + report.refused)


def _print_outcome(entries: list[Any]) -> None:
    for entry in entries:
        receipt = entry.receipt
        if receipt["outcome"] == "accepted":
            click.echo(f"Geaccepteerd / accepted: {entry.label}, zaak {receipt['caseRef']}")
        else:
            for reason in receipt["reasons"]:
                click.echo(
                    f"Geweigerd / refused: {entry.label}: {reason['messageNl']} ({reason['code']})",
                    err=True,
                )


@cli.command("verify-receipt")
@click.argument("receipt_file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@pass_context
def verify_receipt_command(obj: Context, receipt_file: Path) -> None:
    """Check a receipt's signature and inclusion proof against the latest checkpoint."""
    profile = obj.profile()
    session = obj.session(profile, obj.keys(profile))
    result = verify_receipt_file(session, profile, receipt_file)
    click.echo(
        f"Ontvangstbewijs geldig / receipt valid: entry {result.index} is in the register, "
        f"which grew consistently from {result.tree_size} to {result.checkpoint_size} entries."
    )


def _list_run(
    obj: Context, profile: Profile, session: Session | None, list_file: Path, mapping: Path | None
) -> ListRun:
    if session is None:
        trusted = cached_policy(profile, obj.clock())
    else:
        trusted = _policy(obj, profile, session)
    return ListRun(profile, trusted.policy, list_file, obj.clock(), mapping)


@cli.command()
@click.argument("list_file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Folder for the PDF letters (0600).",
)
@click.option("--per-tenant", is_flag=True, help="One PDF per tenant instead of one merged PDF.")
@click.option("--mapping", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@pass_context
def letters(
    obj: Context, list_file: Path, out_dir: Path, per_tenant: bool, mapping: Path | None
) -> None:
    """Letters telling each tenant on the list that their data will be shared (PDF)."""
    profile = obj.profile()
    session = obj.session(profile, obj.keys(profile))
    run = _list_run(obj, profile, session, list_file, mapping)
    paths = write_letters(run, out_dir, merged=not per_tenant, today=obj.clock().date())
    click.echo(f"{len(paths)} PDF(s) in {out_dir} (0600). Verstuur ze, dan:")
    click.echo(f"  gateway-client send signal {list_file}")


@cli.group("send")
def send_group() -> None:
    """Send a covenant list."""


@send_group.command("signal")
@click.argument("list_file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--dry-run", is_flag=True, help="Only check the list; send nothing.")
@click.option(
    "--mapping",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Column mapping file (docs/CLIENT_INPUT.md).",
)
@click.option(
    "--report",
    "report_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also write the problems as CSV for a spreadsheet.",
)
@click.option("--lang", type=click.Choice(["nl+en", "nl", "en"]), default="nl+en")
@pass_context
def send_signal(
    obj: Context,
    list_file: Path,
    dry_run: bool,
    mapping: Path | None,
    report_file: Path | None,
    lang: str,
) -> None:
    """Check the monthly arrears list, then seal and send every valid row (never twice)."""
    profile = obj.profile()
    keys = obj.keys(profile)
    session = obj.session(profile, keys)
    run = _list_run(obj, profile, session, list_file, mapping)
    report = run.check()
    click.echo(render_text(report, lang))
    if report_file is not None:
        report_file.write_bytes(render_csv(report))
    if dry_run:
        click.echo("Proefdraai: niets verstuurd / dry run: nothing sent.")
        return
    if report.valid == 0:
        raise ClientError("No valid rows: nothing was sent.")
    found = _directory(obj, profile, session)
    with click.progressbar(
        length=report.valid, label="Versturen / sending", file=sys.stderr
    ) as bar:
        result = send_list(run, session, keys, found, clock=obj.clock, progress=bar.update)
    click.echo(
        f"Geaccepteerd / accepted: {len(result.accepted)}; geweigerd / refused: "
        f"{len(result.refused)}; al eerder verstuurd / sent before: {result.already_sent}; "
        f"onder de drempel, niet verstuurd / below threshold, not sent: "
        f"{report.below_threshold}; ongeldig / invalid: {report.invalid}."
    )
    _print_outcome(result.refused)


def _policy(obj: Context, profile: Profile, session: Session) -> Any:
    try:
        return cached_policy(profile, obj.clock())
    except ClientError:  # missing or stale: fetch a fresh one, verified the same way
        return pull_policy(session, profile, obj.clock())


def _directory(obj: Context, profile: Profile, session: Session) -> Any:
    try:
        return cached_directory(profile, obj.clock())
    except ClientError:  # missing or stale: fetch a fresh one, verified the same way
        return pull_directory(session, profile, obj.clock())


def main() -> None:
    cli(prog_name="gateway-client")
