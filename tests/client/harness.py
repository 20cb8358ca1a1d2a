"""Client tests against the real gateway app in-process: the Flask test client as transport."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from click.testing import CliRunner, Result
from flask import Flask

from gateway.client.cli import Context, cli
from gateway.client.profile import Profile, load_profile
from gateway.client.session import Response, RetryPolicy, Session, Transport
from gateway.crypto.keys import PartnerKeyPair, PublicKeys, read_private_key_file
from gateway.instance import Instance
from gateway.services import key_directory
from tests.api.world import Clock

PASSPHRASE = "correct horse battery"


def flask_transport(app: Flask) -> Transport:
    client = app.test_client()

    def send(method: str, url: str, body: bytes, headers: Mapping[str, str]) -> Response:
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        answer = client.open(target, method=method, data=body, headers=dict(headers))
        return Response(answer.status_code, answer.get_data(), answer.content_type or "")

    return send


@dataclass
class ClientSide:
    """One partner's machine: a profile folder, its keys, and a way to run gateway-client."""

    partner: str
    folder: Path
    app: Flask
    clock: Clock
    transport: Transport | None = None
    sleeps: list[float] = field(default_factory=list)

    @property
    def profile_path(self) -> Path:
        return self.folder / "sluis-profile.json"

    @property
    def passphrase_file(self) -> Path:
        return self.folder / "passphrase.txt"

    def context(self) -> Context:
        def factory(profile: Profile, keys: PartnerKeyPair) -> Session:
            return Session(
                profile.gateway_url,
                keys,
                transport=self.transport or flask_transport(self.app),
                retry=RetryPolicy(attempts=3, first_delay=1, sleep=self.sleeps.append),
                clock=self.clock,
            )

        return Context(self.profile_path, self.passphrase_file, self.clock, factory)

    def run(self, *args: str) -> Result:
        return CliRunner().invoke(
            cli,
            [
                "--profile",
                str(self.profile_path),
                "--passphrase-file",
                str(self.passphrase_file),
                *args,
            ],
            obj=self.context(),
        )

    def profile(self) -> Profile:
        return load_profile(self.profile_path)

    def keys(self) -> PartnerKeyPair:
        return read_private_key_file(self.profile().key_file, PASSPHRASE)


def onboard(
    partner: str,
    folder: Path,
    app: Flask,
    instance: Instance,
    clock: Clock,
    gateway_key_file: Path,
    register_key: Callable[[PublicKeys], None] | None = None,
) -> ClientSide:
    """gateway-client init on the partner's side, then the admin registers the public key."""
    folder.mkdir(parents=True)
    side = ClientSide(partner, folder, app, clock)
    side.passphrase_file.write_text(PASSPHRASE + "\n")
    side.passphrase_file.chmod(0o600)
    result = side.run(
        "init",
        "--gateway",
        "http://localhost",
        "--partner",
        partner,
        "--gateway-key",
        str(gateway_key_file),
        "--cheap-kdf",
    )
    assert result.exit_code == 0, result.output
    public = side.keys().public
    if register_key is not None:
        register_key(public)
    else:
        with instance.database.connection() as conn:
            key_directory.onboard_partner(
                conn,
                _policy(app),
                public,
                now=clock(),
                by="admin",
                register=instance.register,
                not_before=clock() - timedelta(minutes=5),
            )
    return side


def _policy(app: Flask):  # type: ignore[no-untyped-def]
    from gateway.api.exchange import POLICY_KEY

    return app.extensions[POLICY_KEY]


def at(clock: Clock) -> datetime:
    return clock()
