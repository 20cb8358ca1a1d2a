"""``gateway demo``: setup is idempotent and refuses a foreign instance; the walk runs through
real gunicorn on 127.0.0.1 (bounded: one server, 60 s at most) and never prints a field value."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli import cli
from gateway.cli.demo_cmd import DEMO_PASSPHRASE, DEMO_VALUES, demo_fields
from gateway.client.profile import load_profile
from gateway.crypto.keys import PartnerKeyPair, read_private_key_file
from gateway.instance import Instance, init_instance, load_instance
from gateway.policy import Policy
from gateway.services import key_directory
from gateway.settings import Settings
from gateway.store import key_directory as store
from gateway.store import policy_versions

SERVER_SECONDS = 60


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _setup(runner: CliRunner, env: dict[str, str], partners: Path) -> tuple[int, str]:
    result = runner.invoke(
        cli, ["demo", "setup", "--partners-dir", str(partners), "--cheap-kdf"], env=env
    )
    return result.exit_code, result.output


@pytest.fixture
def demo_instance(settings: Settings) -> Instance:
    init_instance(settings)
    return load_instance(settings)


def test_setup_registers_every_party_and_is_idempotent(
    demo_instance: Instance, gateway_env: dict[str, str], weert: Policy, tmp_path: Path
) -> None:
    runner = CliRunner()
    partners = tmp_path / "partners"
    code, first = _setup(runner, gateway_env, partners)
    assert code == 0, first
    assert "Published policy version" in first
    assert "DEMO passphrase" in first
    with demo_instance.database.connection() as conn:
        assert policy_versions.get(conn, weert.version_id) is not None
        registered = {p.id: store.keys_of(conn, p.id) for p in store.list_partners(conn)}
        size = conn.execute("SELECT count(*) FROM register_entries").fetchone()[0]
    assert set(registered) == set(weert.parties)
    for party in weert.parties:
        assert party in first
        [key] = registered[party]
        private = partners / f"{party}.key"
        assert stat.S_IMODE(private.stat().st_mode) == 0o600
        pair = read_private_key_file(private, DEMO_PASSPHRASE)
        assert pair.public.key_id == key.key_id
        assert pair.public.fingerprint in first
    code, second = _setup(runner, gateway_env, partners)
    assert code == 0, second
    assert "Already published" in second
    assert "(new)" not in second
    with demo_instance.database.connection() as conn:
        assert {p.id: store.keys_of(conn, p.id) for p in store.list_partners(conn)} == registered
        assert conn.execute("SELECT count(*) FROM register_entries").fetchone()[0] == size


def test_setup_refuses_an_instance_with_foreign_partners(
    demo_instance: Instance, gateway_env: dict[str, str], weert: Policy, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    with demo_instance.database.connection() as conn:
        key_directory.add_partner(
            conn, weert, "wonen-limburg", now=now, by="admin", register=demo_instance.register
        )
        key_directory.register_key(
            conn,
            PartnerKeyPair.generate("wonen-limburg").public,
            now=now,
            by="admin",
            register=demo_instance.register,
        )
    partners = tmp_path / "partners"
    code, output = _setup(CliRunner(), gateway_env, partners)
    assert code == 2
    assert "wonen-limburg" in output
    assert "demo instances only" in output
    assert "Traceback" not in output
    assert not partners.exists()  # nothing written
    with demo_instance.database.connection() as conn:
        assert [p.id for p in store.list_partners(conn)] == ["wonen-limburg"]
        assert policy_versions.history(conn) == []


def test_setup_refuses_another_demo_folder(
    demo_instance: Instance, gateway_env: dict[str, str], tmp_path: Path
) -> None:
    runner = CliRunner()
    assert _setup(runner, gateway_env, tmp_path / "one")[0] == 0
    code, output = _setup(runner, gateway_env, tmp_path / "two")
    assert code == 2
    assert "not in" in output


def test_setup_reuses_the_demo_keys_on_a_new_instance(
    settings: Settings, gateway_env: dict[str, str], tmp_path: Path
) -> None:
    runner = CliRunner()
    partners = tmp_path / "partners"
    init_instance(settings)
    assert _setup(runner, gateway_env, partners)[0] == 0
    before = _key_files(partners)
    init_instance(settings, force=True)  # a new instance; the demo keys stay
    code, output = _setup(runner, gateway_env, partners)
    assert code == 0, output
    assert "Published policy version" in output
    assert _key_files(partners) == before
    # the profiles now pin the new gateway key
    new_key = bytes.fromhex(settings.signing_public_key_path.read_text().strip())
    assert load_profile(partners / "st-joseph" / "sluis-profile.json").gateway_public_key == new_key
    with load_instance(settings).database.connection() as conn:
        assert all(store.keys_of(conn, p.id) for p in store.list_partners(conn))


def _key_files(partners: Path) -> dict[str, bytes]:
    """Every key and secret the demo setup keeps (profiles follow the gateway, keys stay)."""
    return {
        str(p.relative_to(partners)): p.read_bytes()
        for p in partners.rglob("*")
        if p.is_file() and p.name != "sluis-profile.json"
    }


def test_setup_writes_a_client_profile_per_partner(
    demo_instance: Instance, gateway_env: dict[str, str], weert: Policy, tmp_path: Path
) -> None:
    runner = CliRunner()
    partners = tmp_path / "partners"
    env = {**gateway_env, "SLUIS_BIND": "127.0.0.1:8765"}
    code, output = _setup(runner, env, partners)
    assert code == 0, output
    assert "gateway-client profiles for http://127.0.0.1:8765" in output
    passphrase = partners / "passphrase.txt"
    assert stat.S_IMODE(passphrase.stat().st_mode) == 0o600
    assert passphrase.read_text() == DEMO_PASSPHRASE + "\n"
    gateway_key = bytes.fromhex(demo_instance.settings.signing_public_key_path.read_text())
    for party, details in weert.parties.items():
        profile = load_profile(partners / party / "sluis-profile.json")
        assert profile.partner == party
        assert profile.gateway_url == "http://127.0.0.1:8765"
        assert profile.gateway_public_key == gateway_key
        assert profile.key_file == (partners / f"{party}.key").resolve()
        assert read_private_key_file(profile.key_file, DEMO_PASSPHRASE).partner == party
        landlord = "landlord" in details.roles
        assert profile.subject_secret_file.exists() is landlord
        if landlord:
            assert stat.S_IMODE(profile.subject_secret_file.stat().st_mode) == 0o600
            assert len(bytes.fromhex(profile.subject_secret_file.read_text())) == 32
    before = {str(p): p.read_bytes() for p in partners.rglob("*") if p.is_file()}
    assert _setup(runner, env, partners)[0] == 0  # idempotent: nothing changes
    assert {str(p): p.read_bytes() for p in partners.rglob("*") if p.is_file()} == before
    keys = _key_files(partners)
    moved = {**gateway_env, "SLUIS_BIND": "0.0.0.0:8766"}
    assert _setup(runner, moved, partners)[0] == 0  # profiles follow the address
    profile = load_profile(partners / "wonen-limburg" / "sluis-profile.json")
    assert profile.gateway_url == "http://127.0.0.1:8766"
    assert _key_files(partners) == keys  # the keys stay


def test_help_says_demos_only() -> None:
    runner = CliRunner()
    for args in (["demo", "--help"], ["demo", "setup", "--help"], ["demo", "exchange", "--help"]):
        result = runner.invoke(cli, args)
        assert result.exit_code == 0
        assert "FOR DEMOS ONLY" in result.output
        assert "--cheap-kdf" not in result.output


def test_exchange_without_a_gateway_says_so(
    demo_instance: Instance, gateway_env: dict[str, str], tmp_path: Path
) -> None:
    runner = CliRunner()
    partners = tmp_path / "partners"
    assert _setup(runner, gateway_env, partners)[0] == 0
    result = runner.invoke(
        cli,
        ["demo", "exchange", "--partners-dir", str(partners), "--url", "http://127.0.0.1:1"],
        env=gateway_env,
    )
    assert result.exit_code == 2
    assert "No gateway answers at http://127.0.0.1:1" in result.output


def test_demo_values_are_obviously_made_up(weert: Policy) -> None:
    for flow in ("arrears-signal", "route-to-directors"):
        for party in weert.parties:
            roles = weert.parties[party].roles
            if any(r.role in roles for r in weert.flows[flow].recipients):
                assert set(demo_fields(weert, flow, party)) >= set(
                    next(r for r in weert.flows[flow].recipients if r.role in roles).required_fields
                )
    assert DEMO_VALUES["first_names"] == "Voorbeeld"


def _distinctive_values(policy: Policy) -> list[str]:
    """Every demo value that could not appear in the output by accident (enum values such as
    'directors' or 'letter' are plain words that can)."""
    return [
        v
        for name, v in DEMO_VALUES.items()
        if isinstance(v, str) and len(v) >= 5 and policy.fields[name].type != "enum"
    ]


def test_exchange_walks_the_covenant_through_gunicorn(
    demo_instance: Instance,
    gateway_env: dict[str, str],
    weert: Policy,
    tmp_path: Path,
) -> None:
    partners = tmp_path / "partners"
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLUIS_")}
    env.update(gateway_env, SLUIS_BIND=f"127.0.0.1:{port}")
    command = [sys.executable, "-m", "gateway", "demo"]
    setup = subprocess.run(
        [*command, "setup", "--partners-dir", str(partners), "--cheap-kdf"],
        env=env,
        capture_output=True,
        text=True,
        timeout=SERVER_SECONDS,
        check=False,
    )
    assert setup.returncode == 0, setup.stderr
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "gateway", "serve", "--hint", "Demo: make demo"],
            env=env,
            stdout=out,
            stderr=out,
        )
        try:
            deadline = time.monotonic() + SERVER_SECONDS / 2
            up = False
            while time.monotonic() < deadline and not up:
                try:
                    with urllib.request.urlopen(  # noqa: S310 - fixed loopback URL
                        f"http://127.0.0.1:{port}/api/v1/health", timeout=2
                    ) as response:
                        up = response.status == 200
                except OSError:
                    time.sleep(0.2)
            assert up, log.read_text()
            walk = subprocess.run(
                [*command, "exchange", "--partners-dir", str(partners)],
                env=env,
                capture_output=True,
                text=True,
                timeout=SERVER_SECONDS / 2,
                check=False,
            )
        finally:
            server.terminate()
            server.wait(timeout=15)
    output = walk.stdout + walk.stderr
    assert walk.returncode == 0, output
    for text in (
        "1. Verhuurder wonen-limburg",
        "receipt: accepted",
        "2. Intake gemeente-weert-intake",
        "3. Intake haalt de envelop op",
        "fields received (names only): arrears_amount, city",
        "4. Intake bevestigt",
        "is now 'triage'",
        "5. Intake verwijst de zaak",
        "6. Regisseur",
        "PRIORITY route-to-directors from gemeente-weert-intake",
        "7. Regisseur leest",
        "state 'with-directors', priority yes, due ",
        "8. Controle van het ontvangstbewijs",
        "receipt verified",
    ):
        assert text in output
    server_log = log.read_text()
    assert "  Demo: make demo" in server_log  # what `make run` adds to the list of things to try
    values = _distinctive_values(weert)
    assert {"Voorbeeld", "9999 ZZ", "1901-01-01"} <= set(values)
    for value in values:
        assert value not in output
        assert value not in server_log


def test_setup_refuses_half_a_key_pair(
    demo_instance: Instance, gateway_env: dict[str, str], tmp_path: Path
) -> None:
    runner = CliRunner()
    partners = tmp_path / "partners"
    assert _setup(runner, gateway_env, partners)[0] == 0
    init_instance(demo_instance.settings, force=True)
    (partners / "st-joseph.pub.json").unlink()
    code, output = _setup(runner, gateway_env, partners)
    assert code == 2
    assert "Only one of st-joseph's two demo key files" in output
