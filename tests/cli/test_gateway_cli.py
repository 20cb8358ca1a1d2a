"""The ``gateway`` command as an operator meets it: one sentence, exit code 2, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from gateway.cli import cli
from gateway.settings import Settings


def run_gateway(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("SLUIS_")}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_init_prints_fingerprint_and_refuses_second_run(gateway_env: dict[str, str]) -> None:
    runner = CliRunner()
    first = runner.invoke(cli, ["init"], env=gateway_env)
    assert first.exit_code == 0, first.output
    assert "Signing key fingerprint:" in first.output
    second = runner.invoke(cli, ["init"], env=gateway_env)
    assert second.exit_code == 2
    assert "already exists" in second.output


def test_init_force_reports_what_it_set_aside(gateway_env: dict[str, str]) -> None:
    runner = CliRunner()
    runner.invoke(cli, ["init"], env=gateway_env)
    result = runner.invoke(cli, ["init", "--force"], env=gateway_env)
    assert result.exit_code == 0
    assert "Set aside" in result.output


def _assert_one_clear_sentence(result: subprocess.CompletedProcess[str], expected: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    assert expected in lines[0]


@pytest.mark.parametrize("problem", ["missing", "loose", "wrong", "not-sluis", "newer"])
def test_serve_refuses_to_start_with_one_sentence(
    problem: str, settings: Settings, gateway_env: dict[str, str]
) -> None:
    assert run_gateway(gateway_env, "init").returncode == 0
    expected = {
        "missing": "does not exist",
        "loose": "chmod 600",
        "wrong": "cannot be decrypted",
        "not-sluis": "unencrypted SQLite database",
        "newer": "upgrade Sluis",
    }[problem]
    if problem == "missing":
        settings.db_key_path.unlink()
    elif problem == "loose":
        settings.db_key_path.chmod(0o644)
    elif problem == "wrong":
        settings.db_key_path.unlink()
        settings.db_key_path.write_text("ab" * 32 + "\n")
        settings.db_key_path.chmod(0o600)
    elif problem == "not-sluis":
        import sqlite3

        for suffix in ("", "-wal", "-shm"):
            path = settings.database_path.with_name(settings.database_path.name + suffix)
            path.unlink(missing_ok=True)
        plain = sqlite3.connect(settings.database_path)
        plain.execute("CREATE TABLE t (x)")
        plain.commit()
        plain.close()
    else:
        from gateway.instance import load_database_key
        from gateway.store import LATEST_VERSION, Database

        db = Database(settings.database_path, load_database_key(settings.db_key_path))
        with db.connection() as conn:
            conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 5}")
    _assert_one_clear_sentence(run_gateway(gateway_env, "serve"), expected)


def test_bad_setting_stops_with_one_sentence(gateway_env: dict[str, str]) -> None:
    result = run_gateway({**gateway_env, "SLUIS_WORKERS": "lots"}, "serve")
    _assert_one_clear_sentence(result, "SLUIS_WORKERS")


def test_client_command_exists() -> None:
    from gateway.client.cli import cli as client_cli

    result = CliRunner().invoke(client_cli, ["--version"])
    assert result.exit_code == 0
    assert "gateway-client" in result.output
