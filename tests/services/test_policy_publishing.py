from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from gateway.crypto import SignatureInvalid
from gateway.errors import NotFound
from gateway.instance import Instance
from gateway.policy import Policy, canonical_bytes
from gateway.services.policy_publishing import PublishResult, publish, verify_bundle
from gateway.store import policy_versions

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def _publish(instance: Instance, policy: Policy) -> PublishResult:
    with instance.database.connection() as conn:
        return publish(
            conn,
            policy,
            instance.signing_key,
            now=NOW,
            effective_from=date(2026, 12, 1),
            published_by="fg",
            register=instance.register,
        )


def test_published_bundle_is_the_canonical_policy(instance: Instance, weert: Policy) -> None:
    result = _publish(instance, weert)
    assert result.newly_published
    assert result.version.bundle == canonical_bytes(weert)
    verify_bundle(instance.signing_key.public_key, result.version.bundle, result.version.signature)


def test_tampered_bundle_fails_verification(instance: Instance, weert: Policy) -> None:
    version = _publish(instance, weert).version
    tampered = version.bundle.replace(
        b'"arrears_threshold_months":2', b'"arrears_threshold_months":1'
    )
    assert tampered != version.bundle
    with pytest.raises(SignatureInvalid):
        verify_bundle(instance.signing_key.public_key, tampered, version.signature)


def test_unpublished_version_is_not_found(instance: Instance) -> None:
    with instance.database.connection() as conn, pytest.raises(NotFound):
        policy_versions.require(conn, "0" * 64)
