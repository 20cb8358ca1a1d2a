"""Helpers for the covenant end to end: a real gunicorn on 127.0.0.1, partners that run the
real ``gateway-client`` commands against it, and readers for what they and the register hold.

Each partner is one machine: its own folder with the profile, the key pair made by
``gateway-client init`` and the client's state. Commands run in-process through click's
CliRunner (fast), with the client's own urllib transport to the gateway's URL: every call is
a real, signed HTTP request to gunicorn.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from gateway.client.cli import Context, cli
from gateway.client.journal import Journal
from gateway.client.profile import Profile, load_profile
from gateway.client.session import RetryPolicy, Session, urllib_transport
from gateway.crypto.keys import PartnerKeyPair, read_private_key_file
from gateway.instance import Instance
from gateway.policy import Policy
from gateway.register.entry import decode_entry
from gateway.services import key_directory
from gateway.store import register as register_store

PASSPHRASE = "e2e demo passphrase"
SERVER_START_SECONDS = 30
#: Registered keys are valid from this day, so a landlord's October list can be sealed with
#: an October clock (the client seals with its own clock; the gateway checks the key's validity
#: at the envelope's time).
KEYS_VALID_FROM = datetime(2026, 9, 1, tzinfo=UTC)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def gunicorn(env: dict[str, str], port: int, log: Path) -> Iterator[str]:
    """``gateway serve`` (gunicorn, 2 workers) on 127.0.0.1:port; always terminated."""
    server_env = {k: v for k, v in os.environ.items() if not k.startswith("SLUIS_")}
    server_env.update(env, SLUIS_BIND=f"127.0.0.1:{port}", SLUIS_WORKERS="2")
    base = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "gateway", "serve"], env=server_env, stdout=out, stderr=out
        )
        try:
            deadline = time.monotonic() + SERVER_START_SECONDS
            up = False
            while not up:
                assert time.monotonic() < deadline, log.read_text()
                assert server.poll() is None, log.read_text()
                try:
                    with urllib.request.urlopen(  # noqa: S310 - fixed loopback URL
                        f"{base}/api/v1/health", timeout=2
                    ) as answer:
                        up = answer.status == 200
                except OSError:
                    time.sleep(0.2)
            yield base
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:  # pragma: no cover - a hung server
                server.kill()
                server.wait(timeout=5)


@dataclass
class Party:
    """One partner's machine running ``gateway-client``."""

    partner: str
    folder: Path
    #: The client's clock: None is the real time; a landlord sets its list's month.
    month_clock: datetime | None = None
    opened: list[Path] = field(default_factory=list)

    @property
    def profile_path(self) -> Path:
        return self.folder / "sluis-profile.json"

    @property
    def passphrase_file(self) -> Path:
        return self.folder / "passphrase.txt"

    def clock(self) -> datetime:
        return self.month_clock or datetime.now(UTC)

    def _context(self) -> Context:
        def session(profile: Profile, keys: PartnerKeyPair) -> Session:
            # Requests are signed with the real time (the gateway's signature window); the
            # envelopes are sealed with the client's clock.
            return Session(
                profile.gateway_url,
                keys,
                transport=urllib_transport(timeout=15),
                retry=RetryPolicy(attempts=2, first_delay=0.2),
                clock=lambda: datetime.now(UTC),
            )

        return Context(self.profile_path, self.passphrase_file, self.clock, session)

    def run(self, *args: str) -> Result:
        return CliRunner().invoke(
            cli,
            ["--profile", str(self.profile_path), "--passphrase-file", str(self.passphrase_file)]
            + list(args),
            obj=self._context(),
        )

    def ok(self, *args: str) -> str:
        result = self.run(*args)
        assert result.exit_code == 0, f"{self.partner} {' '.join(args)}:\n{result.output}"
        return result.output

    def profile(self) -> Profile:
        return load_profile(self.profile_path)

    def keys(self) -> PartnerKeyPair:
        return read_private_key_file(self.profile().key_file, PASSPHRASE)

    # -- what the partner sees -----------------------------------------------------------

    def inbox(self, *options: str) -> list[InboxLine]:
        """``gateway-client inbox``, parsed: in the order the gateway gave them."""
        output = self.ok("inbox", "--limit", "500", *options)
        lines = output.strip().splitlines()
        assert lines[-1].endswith("bericht(en) / message(s)."), output
        return [InboxLine.parse(line) for line in lines[:-1]]

    def open(self, message_id: str) -> dict[str, Any]:
        """``gateway-client open`` into a 0600 JSON file, then ``ack``; the opened document."""
        out = self.folder / "opened" / f"{message_id}.json"
        out.parent.mkdir(exist_ok=True, mode=0o700)
        # Message ids are base64url and may start with "-": "--" ends the options.
        self.ok("open", "--out", str(out), "--", message_id)
        assert out.stat().st_mode & 0o777 == 0o600
        self.ok("ack", "--", message_id)
        self.opened.append(out)
        document: dict[str, Any] = json.loads(out.read_text())
        return document

    def refused_open(self, message_id: str) -> str:
        """Try to open an envelope that is not ours; the output of the failing command."""
        result = self.run("open", "--out", str(self.folder / "not-mine.json"), "--", message_id)
        assert result.exit_code == 2, result.output
        assert not (self.folder / "not-mine.json").exists()
        return result.output

    def reply(
        self, flow: str, case_ref: str, to: list[str], values: dict[str, Any], *extra: str
    ) -> Result:
        fields_file = self.folder / "reply-fields.json"
        fields_file.write_text(json.dumps(values))
        targets = [a for partner in to for a in ("--to", partner)]
        result = self.run(
            "reply", flow, "--case", case_ref, *targets, "--fields", str(fields_file), *extra
        )
        fields_file.unlink()
        return result

    def receipts_by_label(self) -> dict[str, dict[str, Any]]:
        """The receipts the client keeps in its journal, by the row they came from."""
        journal = Journal(self.profile().state_dir / "journal")
        return {e.label: e.receipt for e in journal.entries() if e.receipt is not None}


@dataclass(frozen=True)
class InboxLine:
    message_id: str
    flow: str
    sender: str
    case_ref: str
    state: str
    priority: bool

    @classmethod
    def parse(cls, line: str) -> InboxLine:
        # "<id>  <received>  <flow> van <sender> zaak <case>  <state> [VOORRANG]"
        words = line.split()
        assert (words[3], words[5]) == ("van", "zaak"), line
        return cls(words[0], words[2], words[4], words[6], words[7], words[-1] == "VOORRANG")


def onboard(
    partner: str,
    root: Path,
    base_url: str,
    gateway_key_file: Path,
    instance: Instance,
    policy: Policy,
) -> Party:
    """``gateway-client init`` on the partner's machine; the admin registers the public key."""
    party = Party(partner, root / partner)
    party.folder.mkdir(parents=True)
    party.passphrase_file.write_text(PASSPHRASE + "\n")
    party.passphrase_file.chmod(0o600)
    party.ok(
        "init",
        "--gateway",
        base_url,
        "--partner",
        partner,
        "--gateway-key",
        str(gateway_key_file),
        "--cheap-kdf",
    )
    now = datetime.now(UTC)
    with instance.database.connection() as conn:
        key_directory.add_partner(
            conn, policy, partner, now=now, by="admin", register=instance.register
        )
        key_directory.register_key(
            conn,
            party.keys().public,
            now=now,
            by="admin",
            register=instance.register,
            not_before=KEYS_VALID_FROM,
        )
    return party


def matrix(policy: Policy, flow: str, partner: str) -> tuple[frozenset[str], frozenset[str]]:
    """(allowed, required) fields of ``partner``'s role in ``flow``: the covenant's matrix."""
    roles = policy.parties[partner].roles
    rule = next(r for r in policy.flows[flow].recipients if r.role in roles)
    return frozenset(rule.allowed), frozenset(rule.required_fields)


def register_events(instance: Instance) -> list[dict[str, Any]]:
    with instance.database.connection() as conn:
        return [
            decode_entry(bytes(row[3]))
            for rows in register_store.iter_entries(conn)
            for row in rows
        ]


def count_types(entries: list[dict[str, Any]], keep: Callable[[str], bool]) -> Counter[str]:
    return Counter(e["type"] for e in entries if keep(e["type"]))


def case_state(party: Party, case_ref: str) -> dict[str, Any]:
    """``GET /cases/{caseRef}`` through the client library (the CLI has no command for it)."""
    session = Session(party.profile().gateway_url, party.keys(), transport=urllib_transport(15))
    state: dict[str, Any] = session.call("GET", f"/api/v1/cases/{case_ref}").json()
    return state
