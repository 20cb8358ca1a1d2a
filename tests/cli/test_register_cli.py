"""``gateway register`` as the FG, the operator and the AP's auditor use it."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli import cli
from gateway.instance import Instance


@pytest.fixture
def runner(gateway_env: dict[str, str], instance: Instance) -> CliRunner:
    runner = CliRunner(env=gateway_env)
    assert runner.invoke(cli, ["policy", "publish", "--by", "fg-weert"]).exit_code == 0
    assert runner.invoke(cli, ["partner", "add", "wonen-limburg"]).exit_code == 0
    return runner


def test_checkpoint_verify_and_export_round_trip(runner: CliRunner, tmp_path: Path) -> None:
    signed = runner.invoke(cli, ["register", "checkpoint"])
    assert signed.exit_code == 0, signed.output
    assert signed.output.splitlines()[1] == "2"  # the checkpoint's tree size line
    again = runner.invoke(cli, ["register", "checkpoint"])
    assert "has not grown" in again.output
    verified = runner.invoke(cli, ["register", "verify", "--db"])
    assert verified.exit_code == 0, verified.output
    assert "Register verified: 3 entries" in verified.output
    out = tmp_path / "ap-2026"
    made = runner.invoke(
        cli,
        [
            "register",
            "export",
            "--from",
            "2020-01-01",
            "--to",
            "2099-12-31",
            "--format",
            "csv",
            "--out",
            str(out),
        ],
    )
    assert made.exit_code == 0, made.output
    assert "art30.csv" in made.output
    checked = runner.invoke(cli, ["register", "verify", str(out)])
    assert checked.exit_code == 0, checked.output
    assert "Export verified" in checked.output
    assert "Compare this key" in checked.output
    vkey = (out / "verifier.txt").read_text().strip()
    pinned = runner.invoke(cli, ["register", "verify", str(out), "--key", vkey])
    assert pinned.exit_code == 0
    assert "Compare this key" not in pinned.output


def test_edited_export_fails_with_exit_1_and_names_the_file(
    runner: CliRunner, tmp_path: Path
) -> None:
    out = tmp_path / "ap"
    runner.invoke(
        cli,
        [
            "register",
            "export",
            "--from",
            "2020-01-01",
            "--to",
            "2099-12-31",
            "--format",
            "json",
            "--out",
            str(out),
        ],
    )
    (out / "entries.jsonl").write_bytes(b"")
    result = runner.invoke(cli, ["register", "verify", str(out)])
    assert result.exit_code == 1
    assert "NOT VERIFIED: entries.jsonl" in result.output


def test_verify_needs_a_folder_or_db(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["register", "verify"])
    assert result.exit_code == 2
    assert "EXPORT_DIR or --db" in result.output


def test_subject_access_prints_and_records(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["register", "subject", "contract-42"])
    assert result.exit_code == 0, result.output
    assert "0 event(s) about this subject" in result.output
    bad = runner.invoke(cli, ["register", "subject", "x" * 300])
    assert bad.exit_code == 2
    assert "printable characters" in bad.output


def test_retire_epochs_with_nothing_expired(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["register", "retire-epochs"])
    assert result.exit_code == 0
    assert "no key destroyed" in result.output


def test_operator_name_with_spaces_is_refused(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["partner", "add", "st-joseph", "--by", "Piet de Vries"])
    assert result.exit_code == 2
    assert "not a usable operator name" in result.output
