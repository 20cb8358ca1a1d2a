"""``gateway partner`` and ``gateway key`` as the admin uses them at onboarding."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from gateway.cli import cli
from gateway.crypto.keys import KdfLimits, PartnerKeyPair, write_key_files
from gateway.instance import init_instance
from gateway.settings import Settings
from tests.crypto.factories import NOW


def _files(tmp_path: Path, partner: str) -> tuple[PartnerKeyPair, Path]:
    pair = PartnerKeyPair.generate(partner)
    folder = tmp_path / f"client-{partner}-{pair.public.key_id[:6]}"
    _, public = write_key_files(
        pair, folder, "a long passphrase", limits=KdfLimits.cheap(), created=NOW
    )
    return pair, public


def test_onboarding_add_register_rotate_revoke(
    tmp_path: Path, settings: Settings, gateway_env: dict[str, str]
) -> None:
    init_instance(settings)
    run = CliRunner().invoke
    assert run(cli, ["partner", "add", "wonen-limburg"], env=gateway_env).exit_code == 0
    unknown = run(cli, ["partner", "add", "mallory-bv"], env=gateway_env)
    assert unknown.exit_code == 2
    assert "not a party" in unknown.output

    pair, public = _files(tmp_path, "wonen-limburg")
    declined = run(
        cli, ["key", "register", "wonen-limburg", str(public)], env=gateway_env, input="n\n"
    )
    assert declined.exit_code == 1
    assert pair.public.fingerprint in declined.output
    ok = run(cli, ["key", "register", "wonen-limburg", str(public)], env=gateway_env, input="y\n")
    assert ok.exit_code == 0, ok.output
    assert f"Registered key {pair.public.key_id}" in ok.output

    wrong_owner = run(cli, ["key", "register", "st-joseph", str(public), "--yes"], env=gateway_env)
    assert "not 'st-joseph'" in wrong_owner.output

    new_pair, new_public = _files(tmp_path, "wonen-limburg")
    rotated = run(
        cli, ["key", "rotate", "wonen-limburg", str(new_public), "--yes"], env=gateway_env
    )
    assert f"Rotated (kept for old messages): {pair.public.key_id}" in rotated.output

    revoked = run(
        cli, ["key", "revoke", new_pair.public.key_id, "--reason", "test"], env=gateway_env
    )
    assert revoked.exit_code == 0

    shown = run(cli, ["partner", "show", "wonen-limburg"], env=gateway_env).output
    assert "rotated" in shown
    assert "revoked" in shown
    listed = run(cli, ["partner", "list"], env=gateway_env).output
    assert "wonen-limburg" in listed
    assert "0 active key(s)" in listed
    assert run(cli, ["partner", "show", "nobody"], env=gateway_env).exit_code == 1
