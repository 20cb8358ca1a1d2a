"""``gateway demo``: a demo covenant with demo partners, and a scripted walk through it.

FOR DEMOS ONLY. ``setup`` publishes the policy, registers every party of the covenant and
gives each a generated key pair whose private key file sits next to the public one in a local
folder, under a passphrase printed on screen. ``exchange`` plays all the partners at once against
a running gateway. Neither belongs near a production instance; ``setup`` refuses one that holds
partners whose keys are not in its folder.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from gateway.cli.demo_client import DemoError, Gateway, SignedClient
from gateway.client.profile import Profile, save_profile
from gateway.crypto.canonical import canonical_json
from gateway.crypto.envelope import TrustedSenderKeys, open_envelope, seal
from gateway.crypto.errors import KeyFormatError
from gateway.crypto.keys import (
    KdfLimits,
    PartnerKeyPair,
    PublicKeys,
    read_private_key_file,
    write_key_files,
)
from gateway.instance import Instance, load_instance
from gateway.keyfiles import write_secret
from gateway.policy import Policy, load_policy
from gateway.register.receipt import verify_receipt
from gateway.services import key_directory as directory
from gateway.services.policy_publishing import publish
from gateway.settings import Settings
from gateway.store import Connection
from gateway.store import key_directory as store

#: The demo passphrase of every demo private key file. Printed on screen: demo keys only.
#: (Key files need at least 8 characters, so not just "demo".)
DEMO_PASSPHRASE = "demo-passphrase"  # noqa: S105 - a published demo passphrase, by design
DEMO_BY = "demo-setup"
#: Registered keys are valid from a little before now, so clocks a bit apart still agree.
KEY_BACKDATE = timedelta(minutes=5)

LANDLORD = "wonen-limburg"
INTAKE = "gemeente-weert-intake"
DIRECTOR_ROLE = "director"
LANDLORD_ROLE = "landlord"
#: Per demo partner, a ``gateway-client`` profile in ``<partners-dir>/<partner>/``.
PROFILE_NAME = "sluis-profile.json"
#: The demo passphrase in a 0600 file, for ``gateway-client --passphrase-file`` (demo only).
PASSPHRASE_FILE = "passphrase.txt"  # noqa: S105 - a file name, not a passphrase

#: Obviously made-up values for the demo tenant ("Voorbeeld" is Dutch for "example").
DEMO_VALUES: Mapping[str, Any] = {
    "first_names": "Voorbeeld",
    "surname_prefix": "van",
    "surname": "Voorbeeldhuurder",
    "date_of_birth": "1901-01-01",
    "street": "Voorbeeldstraat",
    "house_number": 1,
    "house_number_suffix": "A",
    "postal_code": "9999 ZZ",
    "city": "Voorbeeldstad",
    "phone": "+31 00 000 0000",
    "email": "huurder@voorbeeld.example",
    "contract_reference": "VOORBEELD-0001",
    "monthly_rent": "650.00",
    "arrears_amount": "1300.00",
    "months_in_arrears": 2,
    "personal_contact_attempt_date": "1901-02-01",
    "debt_help_referral_date": "1901-02-02",
    "last_reminder_date": "1901-02-03",
    "reminder_offered_referral": True,
    "tenant_objected": False,
    "tenant_informed_date": "1901-02-04",
    "tenant_informed_how": "letter",
    "household_has_minors": True,
    "route_decision": "directors",
    "invitation_date": "1901-03-01",
}

_BY_TYPE: Mapping[str, Any] = {
    "string": "Voorbeeld",
    "date": "1901-01-01",
    "month": "1901-01",
    "integer": 1,
    "decimal": "1.00",
    "boolean": False,
    "email": "voorbeeld@voorbeeld.example",
    "phone": "+31 00 000 0000",
    "postal-code": "9999 ZZ",
}


def demo_fields(policy: Policy, flow: str, partner: str) -> dict[str, Any]:
    """Made-up values for the required fields of ``partner``'s rule in ``flow``."""
    roles = policy.parties[partner].roles
    rule = next(r for r in policy.flows[flow].recipients if r.role in roles)
    values: dict[str, Any] = {}
    for name in sorted(rule.required_fields):
        field = policy.fields[name]
        if name in DEMO_VALUES:
            values[name] = DEMO_VALUES[name]
        elif field.type == "enum":
            values[name] = field.values[0]
        else:
            values[name] = _BY_TYPE.get(field.type, "Voorbeeld")
    return values


# -- setup ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoPartner:
    partner: str
    roles: tuple[str, ...]
    fingerprint: str
    created: bool


@dataclass(frozen=True)
class SetupReport:
    policy_version: str
    policy_published: bool
    partners: tuple[DemoPartner, ...]


def _private_path(partners_dir: Path, partner: str) -> Path:
    return partners_dir / f"{partner}.key"


def _public_path(partners_dir: Path, partner: str) -> Path:
    return partners_dir / f"{partner}.pub.json"


def _read_public(partners_dir: Path, partner: str) -> PublicKeys | None:
    path = _public_path(partners_dir, partner)
    if not path.exists():
        return None
    keys = PublicKeys.from_json(path.read_bytes())
    if keys.partner != partner:
        raise KeyFormatError(f"{path} holds the key of '{keys.partner}', not of '{partner}'.")
    return keys


def _refuse_foreign_partners(conn: Connection, partners_dir: Path) -> None:
    """Refuse an instance with a partner whose registered keys are not the demo keys here."""
    foreign: list[str] = []
    for record in store.list_partners(conn):
        keys = _read_public(partners_dir, record.id)
        registered = store.keys_of(conn, record.id)
        if keys is None or any(k.key_id != keys.key_id for k in registered):
            foreign.append(record.id)
    if foreign:
        raise DemoError(
            f"This instance already holds partners whose keys are not in {partners_dir} "
            f"({', '.join(sorted(foreign))}): `gateway demo setup` is for demo instances only "
            "and never touches a real one."
        )


def _demo_keys(partners_dir: Path, partner: str, limits: KdfLimits, now: datetime) -> PublicKeys:
    """The partner's demo public keys: from its files, or freshly generated into them."""
    keys = _read_public(partners_dir, partner)
    private = _private_path(partners_dir, partner)
    if keys is not None and private.exists():
        return keys
    if keys is not None or private.exists():
        raise DemoError(
            f"Only one of {partner}'s two demo key files is in {partners_dir}: remove the "
            "other one (or the whole folder) and run the setup again."
        )
    pair = PartnerKeyPair.generate(partner)
    write_key_files(pair, partners_dir, DEMO_PASSPHRASE, limits=limits, created=now)
    return pair.public


def setup_demo(
    instance: Instance,
    policy: Policy,
    partners_dir: Path,
    *,
    now: datetime,
    limits: KdfLimits | None = None,
) -> SetupReport:
    """Publish ``policy``, register every party and give each a demo key; idempotent."""
    kdf = limits or KdfLimits()
    with instance.database.connection() as conn:
        _refuse_foreign_partners(conn, partners_dir)
        partners_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        published = publish(
            conn,
            policy,
            instance.signing_key,
            now=now,
            effective_from=now.date(),
            published_by=DEMO_BY,
            register=instance.register,
            label="demo",
        )
        rows: list[DemoPartner] = []
        for party_id, party in policy.parties.items():
            keys = _demo_keys(partners_dir, party_id, kdf, now)
            created = False
            if store.get_partner(conn, party_id) is None:
                directory.add_partner(
                    conn, policy, party_id, now=now, by=DEMO_BY, register=instance.register
                )
                created = True
            if not store.keys_of(conn, party_id):
                directory.register_key(
                    conn,
                    keys,
                    now=now,
                    by=DEMO_BY,
                    register=instance.register,
                    not_before=now - KEY_BACKDATE,
                )
                created = True
            roles = tuple(sorted(party.roles))
            rows.append(DemoPartner(party_id, roles, keys.fingerprint, created))
    return SetupReport(published.version.version_id, published.newly_published, tuple(rows))


def demo_gateway_url(bind: str) -> str:
    """The URL the demo partners' clients use for a gateway listening on ``bind``."""
    host, port = bind.rsplit(":", 1)
    if host in ("0.0.0.0", "[::]", "::"):  # noqa: S104 - mapped to the loopback address
        host = "127.0.0.1"
    return f"http://{host}:{port}"


def _write_profile(profile: Profile, now: datetime) -> None:
    """Write the profile unless it is already exactly so; when the pinned gateway key changed
    (a new demo instance), the client state of the old one (journal, receipts, cached policy)
    is set aside, so the walk starts afresh."""
    data = json.dumps(profile.to_json(), indent=2).encode() + b"\n"
    path = profile.path
    if path.exists():
        old = path.read_bytes()
        if old == data:
            return
        try:
            old_key = json.loads(old).get("gatewayPublicKey")
        except (ValueError, AttributeError):
            old_key = None
        if old_key != profile.gateway_public_key.hex() and profile.state_dir.exists():
            profile.state_dir.rename(
                profile.folder / f"state.replaced-{now.strftime('%Y%m%dT%H%M%S')}"
            )
        path.unlink()
    save_profile(profile)


def write_client_profiles(
    policy: Policy, partners_dir: Path, *, gateway_url: str, gateway_key: bytes, now: datetime
) -> tuple[Path, ...]:
    """FOR DEMOS ONLY: a ``gateway-client`` profile per demo partner, pinned to the gateway's
    key and pointing at ``gateway_url``; the demo passphrase in a 0600 file; and for each
    landlord its own subject-reference key. Idempotent: keys are kept, profiles follow the
    gateway's URL and key."""
    root = partners_dir.resolve()
    passphrase = root / PASSPHRASE_FILE
    if not passphrase.exists():
        write_secret(passphrase, DEMO_PASSPHRASE.encode() + b"\n")
    written: list[Path] = []
    for party_id, party in policy.parties.items():
        profile = Profile(
            root / party_id / PROFILE_NAME,
            gateway_url,
            party_id,
            _private_path(root, party_id),
            gateway_key,
        )
        _write_profile(profile, now)
        if LANDLORD_ROLE in party.roles and not profile.subject_secret_file.exists():
            write_secret(
                profile.subject_secret_file, secrets.token_bytes(32).hex().encode() + b"\n"
            )
        written.append(profile.path)
    return tuple(written)


# -- exchange ---------------------------------------------------------------------------------


def _step(number: int, nl: str, en: str) -> None:
    click.echo("")
    click.echo(f"{number}. {nl}")
    click.echo(f"   {en}")


def _say(text: str) -> None:
    click.echo(f"   -> {text}")


def _accepted(answer: Any, what: str) -> dict[str, Any]:
    receipt: dict[str, Any] = answer["receipts"][0]
    if receipt["outcome"] != "accepted":
        codes = ", ".join(str(r.get("code", "?")) for r in receipt.get("reasons", []))
        raise DemoError(f"The gateway refused the {what} ({codes}): see its log.")
    return receipt


@dataclass
class Walk:
    """The demo's partners: private keys for the actors, public keys for everyone."""

    gateway: Gateway
    policy: Policy
    public: dict[str, PublicKeys]
    pairs: dict[str, PartnerKeyPair]

    def client(self, partner: str) -> SignedClient:
        return SignedClient(self.gateway, self.pairs[partner])

    def seal(self, sender: str, flow: str, to: tuple[str, ...], **options: Any) -> dict[str, Any]:
        envelope = seal(
            self.pairs[sender],
            flow=flow,
            policy_version=self.policy.version_id,
            projections={r: (self.public[r], demo_fields(self.policy, flow, r)) for r in to},
            created=datetime.now(UTC),
            **options,
        )
        document: dict[str, Any] = envelope.to_json()
        return document


def _load_walk(gateway: Gateway, policy: Policy, partners_dir: Path, actors: list[str]) -> Walk:
    public: dict[str, PublicKeys] = {}
    for party in policy.parties:
        keys = _read_public(partners_dir, party)
        if keys is None:
            raise DemoError(
                f"No demo key for {party} in {partners_dir}: run `gateway demo setup "
                f"--partners-dir {partners_dir}` first (`make run` does)."
            )
        public[party] = keys
    pairs = {
        a: read_private_key_file(_private_path(partners_dir, a), DEMO_PASSPHRASE) for a in actors
    }
    return Walk(gateway, policy, public, pairs)


def _gateway_public_key(settings: Settings) -> bytes:
    path = settings.signing_public_key_path
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        # Missing or garbled: without it no receipt can be checked, so stop before starting.
        raise DemoError(
            f"The gateway's public key {path} is missing or not hexadecimal: set SLUIS_KEY_DIR "
            "to the running gateway's key folder."
        ) from None


def run_exchange(settings: Settings, partners_dir: Path, url: str) -> None:
    """The scripted walk through the covenant; prints each step, never a field value."""
    policy = load_policy(settings.policy_dir)
    directors = tuple(p for p, party in policy.parties.items() if DIRECTOR_ROLE in party.roles)
    if not directors:
        raise DemoError("The covenant has no party with the director role: nothing to walk.")
    director = directors[0]
    walk = _load_walk(Gateway.from_url(url), policy, partners_dir, [LANDLORD, INTAKE, director])
    gateway_key = _gateway_public_key(settings)
    landlord, intake, regisseur = walk.client(LANDLORD), walk.client(INTAKE), walk.client(director)

    click.echo(f"Demo walk through the covenant at {walk.gateway.base}")
    click.echo("Made-up tenant; the output shows field names only, never values.")

    _step(
        1,
        f"Verhuurder {LANDLORD} stuurt het maandelijkse signaal huurachterstand.",
        f"Landlord {LANDLORD} sends the monthly rent arrears signal.",
    )
    subject = f"demo-tenant-{secrets.token_hex(6)}"
    signal = walk.seal(LANDLORD, "arrears-signal", (INTAKE,), subject_ref=subject)
    receipt = _accepted(
        landlord.ok("POST", "/api/v1/envelope-batches", {"envelopes": [signal]}), "signal"
    )
    message_id, case_ref = receipt["messageId"], receipt["caseRef"]
    _say(f"ontvangstbewijs / receipt: accepted, case {case_ref}, register entry {receipt['index']}")

    _step(
        2,
        f"Intake {INTAKE} bekijkt de inbox.",
        f"Intake {INTAKE} lists its inbox.",
    )
    items = intake.ok("GET", "/api/v1/inbox")["items"]
    ours = [i for i in items if i["messageId"] == message_id]
    if not ours:
        raise DemoError(f"The signal {message_id} is not in the inbox of {INTAKE}.")
    _say(f"{len(items)} envelope(s); the new signal {message_id} from {ours[0]['sender']}")

    _step(
        3,
        "Intake haalt de envelop op en opent hem met de eigen sleutel.",
        "Intake fetches the envelope and opens it with its own key.",
    )
    sealed = intake.call("GET", f"/api/v1/envelopes/{message_id}")
    if sealed.status != 200:
        raise DemoError(f"Fetching envelope {message_id} answered {sealed.status}.")
    opened = open_envelope(
        sealed.body, walk.pairs[INTAKE], TrustedSenderKeys.of(walk.public[LANDLORD])
    )
    names = sorted(opened.fields)
    _say(f"{len(names)} velden / fields received (names only): {', '.join(names)}")

    _step(
        4,
        "Intake bevestigt de ontvangst; de zaak gaat naar triage.",
        "Intake acknowledges it; the case moves to triage.",
    )
    ack = intake.ok("POST", f"/api/v1/envelopes/{message_id}/acknowledgement")
    case = intake.ok("GET", f"/api/v1/cases/{case_ref}")
    _say(f"envelope {ack['state']}; case {case_ref} is now '{case['state']}'")

    _step(
        5,
        "Intake verwijst de zaak met voorrang door naar de regisseurs.",
        "Intake routes the case to the directors, with priority.",
    )
    route = walk.seal(
        INTAKE, "route-to-directors", directors, case_ref=case_ref, routing={"priority": True}
    )
    _accepted(intake.ok("POST", "/api/v1/envelope-batches", {"envelopes": [route]}), "routing")
    _say(f"sent to {', '.join(directors)}")

    _step(
        6,
        f"Regisseur {director} bekijkt de inbox (voorrang eerst).",
        f"Director {director} lists its inbox (priority first).",
    )
    items = regisseur.ok("GET", "/api/v1/inbox")["items"]
    for item in items[:5]:
        mark = "PRIORITY" if item["priority"] else "normal  "
        _say(f"{mark} {item['flow']} from {item['sender']}, case {item['caseRef']}")
    if len(items) > 5:
        _say(f"... and {len(items) - 5} more")

    _step(
        7,
        "Regisseur leest de stand van de zaak en de termijn.",
        "Director reads the case state and its deadline.",
    )
    case = regisseur.ok("GET", f"/api/v1/cases/{case_ref}")
    priority = "yes" if case["priority"] else "no"
    _say(f"case {case_ref}: state '{case['state']}', priority {priority}, due {case['deadline']}")

    _step(
        8,
        "Controle van het ontvangstbewijs van stap 1 met de publieke sleutel van de gateway.",
        "Verify the receipt of step 1 with the gateway's public key.",
    )
    checked = verify_receipt(canonical_json(receipt), gateway_key)
    _say(
        f"receipt verified: signed by the gateway, entry {checked['index']} is in its "
        f"register of {checked['treeSize']} entries"
    )
    click.echo("")
    click.echo("Done. Klaar.")


# -- commands ---------------------------------------------------------------------------------

_DIR = click.option(
    "--partners-dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the demo partners' key files (demo keys only).",
)


@click.group()
def demo() -> None:
    """FOR DEMOS ONLY: a demo covenant with demo partners, and a walk through it.

    Never point these commands at a production instance: the demo partners' private keys lie
    in a local folder under a passphrase printed on screen.
    """


@demo.command()
@_DIR
@click.option("--cheap-kdf", is_flag=True, hidden=True, help="Tests only: minimal argon2id cost.")
def setup(partners_dir: Path, cheap_kdf: bool) -> None:
    """FOR DEMOS ONLY: publish the policy and register every party with a demo key.

    Safe to run again: only what is missing is added. Refuses an instance that holds partners
    whose keys are not in --partners-dir, so it cannot touch a real instance by mistake.
    """
    settings = Settings.from_env()
    instance = load_instance(settings)
    policy = load_policy(settings.policy_dir)
    report = setup_demo(
        instance,
        policy,
        partners_dir,
        now=datetime.now(UTC),
        limits=KdfLimits.cheap() if cheap_kdf else None,
    )
    state = "Published" if report.policy_published else "Already published"
    click.echo(f"Demo covenant: {state} policy version {report.policy_version}")
    click.echo(f"Demo partners, key files in {partners_dir}:")
    click.echo(f"  {'partner':40} {'role':24} key fingerprint")
    for row in report.partners:
        new = "  (new)" if row.created else ""
        click.echo(f"  {row.partner:40} {', '.join(row.roles):24} {row.fingerprint}{new}")
    click.echo(
        f'Their private key files (0600) use the passphrase "{DEMO_PASSPHRASE}": '
        "a DEMO passphrase, never use it (or these keys) for real."
    )
    url = demo_gateway_url(settings.bind)
    write_client_profiles(
        policy,
        partners_dir,
        gateway_url=url,
        gateway_key=instance.signing_key.public_key,
        now=datetime.now(UTC),
    )
    click.echo(
        f"gateway-client profiles for {url}: {partners_dir}/<partner>/{PROFILE_NAME}, with "
        f"--passphrase-file {partners_dir}/{PASSPHRASE_FILE} (README: A month in the covenant)."
    )


@demo.command()
@_DIR
@click.option("--url", help="The running gateway (default: http:// plus SLUIS_BIND).")
def exchange(partners_dir: Path, url: str | None) -> None:
    """FOR DEMOS ONLY: walk the demo partners through the covenant on a running gateway."""
    settings = Settings.from_env()
    run_exchange(settings, partners_dir, url or f"http://{settings.bind}")
