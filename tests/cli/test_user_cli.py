"""``gateway user``: the first accounts come from the command line."""

from __future__ import annotations

import stat
from pathlib import Path

from click.testing import CliRunner

from gateway.cli import cli
from gateway.instance import Instance
from gateway.store import users as user_store

PASSWORD = "a long enough passphrase"


def test_add_reset_role_and_list(
    gateway_env: dict[str, str], instance: Instance, tmp_path: Path
) -> None:
    runner = CliRunner(env=gateway_env)
    svg = tmp_path / "qr.svg"
    made = runner.invoke(
        cli,
        ["user", "add", "fien", "--role", "fg", "--role", "auditor", "--qr-svg", str(svg)],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert made.exit_code == 0, made.output
    assert "TOTP secret:" in made.output
    assert "otpauth://totp/Sluis:fien" in made.output
    assert svg.read_text().startswith("<svg")
    assert stat.S_IMODE(svg.stat().st_mode) == 0o600
    with instance.database.connection() as conn:
        found = user_store.get_user(conn, "fien")
        assert found is not None
        assert found.roles == {"fg", "auditor"}
        assert found.password_hash.startswith("$argon2id$")
    role = runner.invoke(cli, ["user", "role", "fien", "--remove", "auditor", "--add", "admin"])
    assert role.exit_code == 0
    assert "admin, fg" in role.output
    reset = runner.invoke(
        cli, ["user", "reset", "fien", "--password-stdin"], input="another long passphrase\n"
    )
    assert reset.exit_code == 0, reset.output
    listed = runner.invoke(cli, ["user", "list"])
    assert listed.output == "fien\tadmin, fg\n"


def test_bad_input_is_one_sentence(gateway_env: dict[str, str], instance: Instance) -> None:
    runner = CliRunner(env=gateway_env)
    short = runner.invoke(
        cli, ["user", "add", "fien", "--role", "fg", "--password-stdin"], input="short\n"
    )
    assert short.exit_code == 2
    assert "at least 12" in short.output
    bad_name = runner.invoke(
        cli, ["user", "add", "Fien Smit", "--role", "fg", "--password-stdin"], input=f"{PASSWORD}\n"
    )
    assert bad_name.exit_code == 2
    assert "not a usable username" in bad_name.output
    missing = runner.invoke(cli, ["user", "role", "nobody", "--add", "fg"])
    assert missing.exit_code == 2
    assert "no console user" in missing.output
    nothing = runner.invoke(cli, ["user", "role", "nobody"])
    assert nothing.exit_code == 2
