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


def test_publish_anew_records_each_publication_and_refuses_a_stale_base(
    instance: Instance, weert: Policy
) -> None:
    from gateway.services.policy_publishing import PolicyChanged, publish_anew

    def again(based_on: str, day: int) -> PublishResult:
        with instance.database.connection() as conn:
            return publish_anew(
                conn,
                weert,
                instance.signing_key,
                now=NOW,
                effective_from=date(2026, 12, day),
                published_by="fien",
                register=instance.register,
                based_on=based_on,
            )

    assert again("0" * 64, 1).newly_published  # nothing published yet: any base will do
    assert not again(weert.version_id, 2).newly_published  # the same version again
    with instance.database.connection() as conn:
        rows = policy_versions.publications(conn)
        assert [r.effective_from for r in rows] == ["2026-12-02", "2026-12-01"]
        assert policy_versions.latest_published_id(conn) == weert.version_id
    with pytest.raises(PolicyChanged):
        again("1" * 64, 3)
