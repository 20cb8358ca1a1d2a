"""Publishing a policy version: canonical bundle, gateway signature, stored version."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from gateway.crypto import SigningKey, verify_signature
from gateway.policy import Policy, canonical_bytes
from gateway.register.entry import Event, operator
from gateway.register.log import Register
from gateway.store import Connection, transaction
from gateway.store import policy_versions as versions_store
from gateway.store.policy_versions import PublishedPolicy

#: Domain separation: a policy signature can never be mistaken for another gateway signature.
SIGNATURE_CONTEXT = b"sluis-policy-bundle-v1\x00"


@dataclass(frozen=True)
class PublishResult:
    version: PublishedPolicy
    newly_published: bool


def sign_bundle(key: SigningKey, bundle: bytes) -> bytes:
    return key.sign(SIGNATURE_CONTEXT + bundle)


def verify_bundle(public_key: bytes, bundle: bytes, signature: bytes) -> None:
    """Raise SignatureInvalid unless ``signature`` is the gateway's over ``bundle``."""
    verify_signature(public_key, SIGNATURE_CONTEXT + bundle, signature)


def publish(
    conn: Connection,
    policy: Policy,
    key: SigningKey,
    *,
    now: datetime,
    effective_from: date,
    published_by: str,
    register: Register,
    label: str = "",
) -> PublishResult:
    """Sign and store ``policy`` and record it in the register; publishing the same version
    again changes nothing and records nothing."""
    actor = operator(published_by)
    bundle = canonical_bytes(policy)
    version = PublishedPolicy(
        version_id=policy.version_id,
        bundle=bundle,
        signature=sign_bundle(key, bundle),
        key_fingerprint=key.fingerprint,
        published_at=now.isoformat(timespec="seconds"),
        effective_from=effective_from.isoformat(),
        published_by=published_by,
        label=label,
    )
    with transaction(conn):
        fresh = versions_store.insert_if_new(conn, version)
        stored = version if fresh else versions_store.require(conn, policy.version_id)
        if fresh:
            register.append(
                conn,
                [
                    Event(
                        "policy.published",
                        actor,
                        policy_version=policy.version_id,
                        attributes={"effectiveFrom": effective_from.isoformat()},
                    )
                ],
                now=now,
            )
    return PublishResult(stored, fresh)
