"""The Weert covenant loads; every kind of broken policy names its file and line."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gateway.policy import PolicyInvalid, load_policy
from gateway.policy.yamlfile import MAX_POLICY_FILE_BYTES
from tests.policy.conftest import Edit


def problems(folder: Path) -> list[str]:
    with pytest.raises(PolicyInvalid) as caught:
        load_policy(folder)
    return [str(p) for p in caught.value.problems]


def line_of(folder: Path, name: str, needle: str, occurrence: int = 1) -> int:
    seen = 0
    for number, line in enumerate((folder / name).read_text().splitlines(), start=1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"{needle!r} not in {name}")


def test_weert_covenant_checks_clean(weert) -> None:  # type: ignore[no-untyped-def]
    assert set(weert.flows) == {
        "arrears-signal",
        "route-to-directors",
        "rent-withholding",
        "referral-to-amw",
        "feedback-to-landlord",
        "referral-to-expert",
        "case-closure",
    }
    assert weert.covenant.parameters["arrears_threshold_months"] == 2
    assert len(weert.version_id) == 64


def test_layout_and_comments_do_not_change_the_version(policy_copy: Path, weert) -> None:  # type: ignore[no-untyped-def]
    path = policy_copy / "flows" / "rent-withholding.yaml"
    data = yaml.safe_load(path.read_text())
    path.write_text("# reformatted\n" + yaml.safe_dump(data, sort_keys=True, width=60))
    assert load_policy(policy_copy).version_id == weert.version_id


def test_any_rule_change_changes_the_version(edit: Edit, policy_copy: Path, weert) -> None:  # type: ignore[no-untyped-def]
    edit(
        "covenant.yaml",
        lambda t: t.replace("arrears_threshold_months: 2", "arrears_threshold_months: 1"),
    )
    assert load_policy(policy_copy).version_id != weert.version_id


def test_unknown_key_is_named_with_its_line(edit: Edit, policy_copy: Path) -> None:
    edit(
        "flows/referral-to-amw.yaml",
        lambda t: (
            t.replace("opens_case", "opens_case") + "colour: red\n"
            if "opens_case" in t
            else t + "colour: red\n"
        ),
    )
    line = line_of(policy_copy, "flows/referral-to-amw.yaml", "colour: red")
    assert f"flows/referral-to-amw.yaml:{line}: unknown key 'colour'" in problems(policy_copy)


def test_field_not_in_dictionary(edit: Edit, policy_copy: Path) -> None:
    edit(
        "flows/rent-withholding.yaml",
        lambda t: t.replace("allowed: [withholding_amount,", "allowed: [bsn, withholding_amount,"),
    )
    line = line_of(policy_copy, "flows/rent-withholding.yaml", "allowed: [bsn")
    assert f"flows/rent-withholding.yaml:{line}: field 'bsn' is not in fields.yaml" in problems(
        policy_copy
    )


def test_recipient_role_without_a_party(edit: Edit, policy_copy: Path) -> None:
    edit(
        "covenant.yaml", lambda t: t.replace("    roles: [expert]\n", "    roles: [social-work]\n")
    )
    line = line_of(policy_copy, "flows/referral-to-expert.yaml", "- role: expert")
    assert (
        f"flows/referral-to-expert.yaml:{line}: "
        "recipient role 'expert' has no party in covenant.yaml" in problems(policy_copy)
    )


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("purpose_nl", "purpose_nl: Missing data for required field."),
        ("legal_basis", "legal_basis: Missing data for required field."),
        ("retention", "retention: Missing data for required field."),
    ],
)
def test_flow_without_purpose_legal_basis_or_retention(
    key: str, message: str, policy_copy: Path
) -> None:
    path = policy_copy / "flows" / "feedback-to-landlord.yaml"
    data = yaml.safe_load(path.read_text())
    del data["recipients"][0][key]
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    line = line_of(policy_copy, "flows/feedback-to-landlord.yaml", "- role: landlord")
    found = problems(policy_copy)
    assert any(
        p.startswith(f"flows/feedback-to-landlord.yaml:{line}: recipients.0.{message}")
        for p in found
    ), found


def test_workflow_transition_to_unknown_state(edit: Edit, policy_copy: Path) -> None:
    edit("workflow.yaml", lambda t: t.replace("    to: with-amw", "    to: with-amv"))
    line = line_of(policy_copy, "workflow.yaml", "to: with-amv")
    assert f"workflow.yaml:{line}: unknown state 'with-amv'" in problems(policy_copy)


def test_workflow_transition_naming_unknown_flow(edit: Edit, policy_copy: Path) -> None:
    edit(
        "workflow.yaml",
        lambda t: t.replace("  - flow: referral-to-expert", "  - flow: referral-to-lawyer"),
    )
    line = line_of(policy_copy, "workflow.yaml", "flow: referral-to-lawyer")
    found = problems(policy_copy)
    assert f"workflow.yaml:{line}: unknown flow 'referral-to-lawyer'" in found
    assert any("flow 'referral-to-expert' has no transition" in p for p in found)


def test_required_field_not_allowed(edit: Edit, policy_copy: Path) -> None:
    edit(
        "flows/referral-to-expert.yaml",
        lambda t: t.replace(
            "required: [first_names, surname,", "required: [date_of_birth, first_names, surname,"
        ),
    )
    line = line_of(policy_copy, "flows/referral-to-expert.yaml", "required: [date_of_birth")
    assert (
        f"flows/referral-to-expert.yaml:{line}: required field 'date_of_birth' is not in the "
        "allowed fields of 'expert'" in problems(policy_copy)
    )


def test_duplicate_party_id(edit: Edit, policy_copy: Path) -> None:
    edit("covenant.yaml", lambda t: t.replace("  - id: st-joseph", "  - id: wonen-limburg"))
    line = line_of(policy_copy, "covenant.yaml", "- id: wonen-limburg", occurrence=2)
    assert f"covenant.yaml:{line}: duplicate party id 'wonen-limburg'" in problems(policy_copy)


def test_duplicate_flow_id(policy_copy: Path) -> None:
    source = policy_copy / "flows" / "case-closure.yaml"
    (policy_copy / "flows" / "case-closure-copy.yaml").write_text(source.read_text())
    found = problems(policy_copy)
    assert any(
        p.startswith("flows/case-closure-copy.yaml:") and "must match its file name" in p
        for p in found
    )
    assert any("duplicate flow id 'case-closure'" in p for p in found)


def test_duplicate_yaml_key(edit: Edit, policy_copy: Path) -> None:
    edit("fields.yaml", lambda t: t.replace("  surname:\n", "  first_names:\n", 1))
    line = line_of(policy_copy, "fields.yaml", "  first_names:", occurrence=2)
    assert f"fields.yaml:{line}: duplicate key 'first_names'" in problems(policy_copy)


def test_duplicate_state_id(edit: Edit, policy_copy: Path) -> None:
    edit("workflow.yaml", lambda t: t.replace("  - id: with-expert", "  - id: with-amw"))
    line = line_of(policy_copy, "workflow.yaml", "- id: with-amw", occurrence=2)
    assert f"workflow.yaml:{line}: duplicate state id 'with-amw'" in problems(policy_copy)


def test_anchor_bomb_is_refused_before_expansion(policy_copy: Path) -> None:
    bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 9):
        bomb.append(f"{chr(97 + i)}: &{chr(97 + i)} [{','.join(['*' + chr(96 + i)] * 9)}]")
    (policy_copy / "fields.yaml").write_text("\n".join(bomb) + "\n")
    assert "fields.yaml:1: anchors (&name) are not allowed in policy files" in problems(policy_copy)


def test_alias_without_anchor_line_is_refused(policy_copy: Path) -> None:
    (policy_copy / "workflow.yaml").write_text("states: []\ntransitions: *missing\n")
    found = problems(policy_copy)
    assert any(p.startswith("workflow.yaml:2:") for p in found), found


def test_unsafe_yaml_tag_is_refused(policy_copy: Path) -> None:
    (policy_copy / "workflow.yaml").write_text("states: !!python/object/apply:os.system ['true']\n")
    assert any(p.startswith("workflow.yaml:1:") and "tag" in p for p in problems(policy_copy))


def test_oversized_file_is_refused_unparsed(policy_copy: Path) -> None:
    (policy_copy / "fields.yaml").write_text("# " + "x" * MAX_POLICY_FILE_BYTES + "\n")
    assert any(p.startswith("fields.yaml:1: file is") for p in problems(policy_copy))


def test_non_utf8_file_is_refused(policy_copy: Path) -> None:
    (policy_copy / "fields.yaml").write_bytes("naam: Jos\xe9\n".encode("latin-1"))
    assert "fields.yaml:1: file is not UTF-8 text" in problems(policy_copy)


def test_broken_yaml_syntax_names_the_line(policy_copy: Path) -> None:
    (policy_copy / "workflow.yaml").write_text("states:\n  - id: a\n   bad: [\n")
    assert any(p.startswith("workflow.yaml:3:") for p in problems(policy_copy))


def test_missing_file_and_empty_rule_set(policy_copy: Path) -> None:
    (policy_copy / "covenant.yaml").unlink()
    for flow in (policy_copy / "flows").iterdir():
        flow.unlink()
    found = problems(policy_copy)
    assert "covenant.yaml:1: file is missing" in found
    assert "flows/:1: no flow files: an empty rule set denies everything" in found


def test_every_problem_is_reported_at_once(edit: Edit, policy_copy: Path) -> None:
    edit("flows/rent-withholding.yaml", lambda t: t + "colour: red\n")
    edit("workflow.yaml", lambda t: t.replace("    to: with-amw", "    to: nowhere"))
    found = problems(policy_copy)
    assert any(p.startswith("flows/rent-withholding.yaml:") for p in found)
    assert any(p.startswith("workflow.yaml:") for p in found)


def test_missing_folder(tmp_path: Path) -> None:
    assert problems(tmp_path / "nope")[0].endswith("the policy folder does not exist")
