from __future__ import annotations

from pathlib import Path

from gateway.policy import Policy, load_policy
from gateway.policy import diff as policy_diff
from gateway.policy import matrix as policy_matrix
from tests.policy.conftest import Edit


def test_matrix_marks_required_and_allowed(weert: Policy) -> None:
    [m] = policy_matrix.build(weert, "route-to-directors")
    rows = dict(m.rows)
    assert m.roles == ("director",)
    assert rows["household_has_minors"] == ("R",)
    assert rows["phone"] == ("X",)
    assert "contract_reference" not in rows


def test_text_matrix_lists_every_flow(weert: Policy) -> None:
    text = policy_matrix.render_text(weert, policy_matrix.build(weert))
    for flow_id in weert.flows:
        assert f"{flow_id}: " in text
    assert "R = required" in text


def test_csv_matrix_is_for_dutch_spreadsheets(weert: Policy) -> None:
    text = policy_matrix.render_csv(weert, policy_matrix.build(weert, "rent-withholding"))
    assert text.startswith("\ufeffstroom;afzender;veld;")
    lines = text.strip("\ufeff").splitlines()
    assert len(lines) == 4  # header + the three fields the landlord may get
    assert all(line.count(";") == 8 for line in lines)


def test_html_matrix_escapes_text(weert: Policy, edit: Edit, policy_copy: Path) -> None:
    edit(
        "flows/rent-withholding.yaml",
        lambda t: t.replace(
            "label_nl: Inhouding huur op de uitkering", "label_nl: Inhouding <script>x</script>"
        ),
    )
    changed = load_policy(policy_copy)
    page = policy_matrix.render_html(changed, policy_matrix.build(changed))
    assert "<script>x" not in page
    assert "&lt;script&gt;x" in page
    assert page.startswith("<!DOCTYPE html>")


def test_diff_names_what_changed(weert: Policy, edit: Edit, policy_copy: Path) -> None:
    edit("flows/referral-to-amw.yaml", lambda t: t.replace("      - phone\n", "", 1))
    edit(
        "covenant.yaml",
        lambda t: t.replace("arrears_threshold_months: 2", "arrears_threshold_months: 1"),
    )
    changes = [str(c) for c in policy_diff.diff(weert, load_policy(policy_copy))]
    assert "- flows.referral-to-amw.recipients[0].allowed: phone" in changes
    assert "~ covenant.parameters.arrears_threshold_months: 2 -> 1" in changes
    assert policy_diff.diff(weert, weert) == []
