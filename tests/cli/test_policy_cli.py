"""``gateway policy`` as the FG and the admin use it."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from gateway.cli import cli
from gateway.instance import init_instance, load_instance
from gateway.policy import load_policy
from gateway.services.policy_publishing import verify_bundle
from gateway.settings import Settings
from gateway.store import policy_versions

POLICIES = Path(__file__).resolve().parents[2] / "policies"


def test_check_passes_on_the_weert_covenant() -> None:
    result = CliRunner().invoke(cli, ["policy", "check", str(POLICIES)])
    assert result.exit_code == 0, result.output
    assert "7 flows" in result.output


def test_check_lists_every_problem_with_file_and_line(tmp_path: Path) -> None:
    broken = tmp_path / "p"
    shutil.copytree(POLICIES, broken)
    flow = broken / "flows" / "rent-withholding.yaml"
    flow.write_text(flow.read_text() + "colour: red\n")
    (broken / "workflow.yaml").write_text(
        (broken / "workflow.yaml").read_text().replace("    to: with-amw", "    to: nowhere")
    )
    result = CliRunner().invoke(cli, ["policy", "check", str(broken)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert any(
        f"{broken}/flows/rent-withholding.yaml:" in line and "unknown key 'colour'" in line
        for line in lines
    )
    assert any(
        f"{broken}/workflow.yaml:" in line and "unknown state 'nowhere'" in line for line in lines
    )
    assert lines[-1] == "2 problem(s)."


def test_matrix_formats(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"SLUIS_POLICY_DIR": str(POLICIES)}
    text = runner.invoke(cli, ["policy", "matrix", "--flow", "feedback-to-landlord"], env=env)
    assert text.exit_code == 0
    assert "feedback_status" in text.output
    out = tmp_path / "annex.html"
    html = runner.invoke(cli, ["policy", "matrix", "--format", "html", "--out", str(out)], env=env)
    assert html.exit_code == 0
    assert "<table>" in out.read_text()
    csv = runner.invoke(cli, ["policy", "matrix", "--format", "csv"], env=env)
    assert csv.output.startswith("\ufeffstroom;")
    unknown = runner.invoke(cli, ["policy", "matrix", "--flow", "nope"], env=env)
    assert unknown.exit_code == 2


def test_diff_between_folders(tmp_path: Path) -> None:
    changed = tmp_path / "p"
    shutil.copytree(POLICIES, changed)
    cov = changed / "covenant.yaml"
    cov.write_text(cov.read_text().replace("monthly_delivery_day: 10", "monthly_delivery_day: 12"))
    result = CliRunner().invoke(cli, ["policy", "diff", str(POLICIES), str(changed)])
    assert result.exit_code == 0
    assert "~ covenant.schedule.monthly_delivery_day: 10 -> 12" in result.output


def test_publish_signs_stores_and_is_idempotent(
    settings: Settings, gateway_env: dict[str, str]
) -> None:
    init_instance(settings)
    runner = CliRunner()
    first = runner.invoke(
        cli, ["policy", "publish", "--effective-from", "2026-12-01", "--by", "fg"], env=gateway_env
    )
    assert first.exit_code == 0, first.output
    assert first.output.startswith("Published: version ")
    again = runner.invoke(cli, ["policy", "publish"], env=gateway_env)
    assert again.output.startswith("Already published")
    instance = load_instance(settings)
    policy = load_policy(POLICIES)
    with instance.database.connection() as conn:
        stored = policy_versions.require(conn, policy.version_id)
        assert len(policy_versions.history(conn)) == 1
        assert policy_versions.current(conn, "2026-11-30") is None
        assert policy_versions.current(conn, "2026-12-01") == stored
    assert stored.published_by == "fg"
    verify_bundle(instance.signing_key.public_key, stored.bundle, stored.signature)
