"""A partner's client rebuilds the typed policy from the signed bundle, exactly."""

from __future__ import annotations

import json

import pytest

from gateway.policy import Policy, canonical_bytes
from gateway.policy.bundle import BundleInvalid, policy_from_bundle, to_document


def test_bundle_rebuilds_to_the_same_policy(weert: Policy) -> None:
    rebuilt = policy_from_bundle(canonical_bytes(weert))
    assert rebuilt == weert
    assert rebuilt.version_id == weert.version_id


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.update(format="other"),
        lambda d: d["covenant"].update(colour="red"),
        lambda d: d["fields"]["surname"].update(max_length="long"),
        lambda d: d.pop("workflow"),
    ],
    ids=["format", "unknown-key", "wrong-type", "missing"],
)
def test_altered_bundles_are_refused(weert: Policy, change: object) -> None:
    document = to_document(weert)
    change(document)  # type: ignore[operator]
    with pytest.raises(BundleInvalid):
        policy_from_bundle(json.dumps(document).encode())


def test_not_json_is_refused() -> None:
    with pytest.raises(BundleInvalid):
        policy_from_bundle(b"\xff")
