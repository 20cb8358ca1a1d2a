"""Publishing a policy version: canonical bundle, gateway signature, stored version."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from gateway.crypto import SigningKey, verify_signature
from gateway.errors import SluisError
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


def _version(
    policy: Policy,
    key: SigningKey,
    *,
    now: datetime,
    effective_from: date,
    published_by: str,
    label: str,
) -> PublishedPolicy:
    bundle = canonical_bytes(policy)
    return PublishedPolicy(
        version_id=policy.version_id,
        bundle=bundle,
        signature=sign_bundle(key, bundle),
        key_fingerprint=key.fingerprint,
        published_at=now.isoformat(timespec="seconds"),
        effective_from=effective_from.isoformat(),
        published_by=published_by,
        label=label,
    )


def _record(
    conn: Connection, register: Register, version: PublishedPolicy, *, now: datetime
) -> None:
    versions_store.insert_publication(conn, version)
    register.append(
        conn,
        [
            Event(
                "policy.published",
                operator(version.published_by),
                policy_version=version.version_id,
                attributes={"effectiveFrom": version.effective_from},
            )
        ],
        now=now,
    )


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
    version = _version(
        policy, key, now=now, effective_from=effective_from, published_by=published_by, label=label
    )
    with transaction(conn):
        fresh = versions_store.insert_if_new(conn, version)
        stored = version if fresh else versions_store.require(conn, policy.version_id)
        if fresh:
            _record(conn, register, version, now=now)
    return PublishResult(stored, fresh)


class PolicyChanged(SluisError):
    """Another publication came first: the edit was based on a version no longer current."""

    code = "policy-changed"
    title = "Policy changed meanwhile"
    status = 409

    def __init__(self, based_on: str, current: str) -> None:
        self.based_on = based_on
        self.current = current
        super().__init__(
            f"The policy was published by someone else meanwhile (now {current[:12]}); "
            f"this edit was based on {based_on[:12]}."
        )


def publish_anew(
    conn: Connection,
    policy: Policy,
    key: SigningKey,
    *,
    now: datetime,
    effective_from: date,
    published_by: str,
    register: Register,
    based_on: str,
    label: str = "",
) -> PublishResult:
    """Publish ``policy`` as the new current version, also when that version was published
    before (a restore): a new publication with its own effective date, recorded in the register.

    Refused with :class:`PolicyChanged` when the latest publication is not ``based_on``, the
    version the editor started from (checked inside the write transaction, so two editors
    cannot both pass the check).
    """
    version = _version(
        policy, key, now=now, effective_from=effective_from, published_by=published_by, label=label
    )
    with transaction(conn):
        current = versions_store.latest_published_id(conn)
        if current is not None and current != based_on:
            raise PolicyChanged(based_on, current)
        fresh = versions_store.insert_if_new(conn, version)
        stored = version if fresh else versions_store.require(conn, policy.version_id)
        _record(conn, register, version, now=now)
    return PublishResult(stored, fresh)
