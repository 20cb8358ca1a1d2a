"""The writer turns a typed policy back into files that load to the same version id."""

from __future__ import annotations

from pathlib import Path

from gateway.policy import Policy, load_policy
from gateway.policy.bundle import canonical_bytes, policy_from_bundle
from gateway.policy.writer import flow_file, policy_files, write_policy


def test_round_trip_keeps_the_version_id(weert: Policy, tmp_path: Path) -> None:
    write_policy(weert, tmp_path / "p")
    again = load_policy(tmp_path / "p")
    assert again.version_id == weert.version_id


def test_round_trip_from_the_bundle(weert: Policy, tmp_path: Path) -> None:
    rebuilt = policy_from_bundle(canonical_bytes(weert))
    write_policy(rebuilt, tmp_path / "p")
    assert load_policy(tmp_path / "p").version_id == weert.version_id


def test_files_are_plain_yaml_without_anchors(weert: Policy) -> None:
    for name, text in policy_files(weert).items():
        assert "&id" not in text, name
        assert "*id" not in text, name
        assert text.startswith("# Written by the Sluis console")


def test_writing_again_gives_the_same_text(weert: Policy, tmp_path: Path) -> None:
    write_policy(weert, tmp_path / "p")
    again = load_policy(tmp_path / "p")
    for flow in weert.flows.values():
        assert flow_file(flow, weert) == flow_file(again.flows[flow.id], again)
