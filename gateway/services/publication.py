"""What partners' clients fetch before they seal: the signed policy bundle and the signed
partner directory (public keys). Both are signed by the gateway key partners pinned at
onboarding; each signature has its own context so one can never stand in for the other."""

from __future__ import annotations

import base64
from datetime import datetime

from gateway.crypto import SigningKey, verify_signature
from gateway.crypto.canonical import canonical_json
from gateway.errors import ServiceUnavailable
from gateway.policy import Policy
from gateway.register.entry import iso_time
from gateway.store import Connection, policy_versions
from gateway.store import key_directory as directory
from gateway.store.policy_versions import PublishedPolicy

DIRECTORY_FORMAT = "sluis-partner-directory/1"
DIRECTORY_CONTEXT = b"sluis-partner-directory-v1\x00"


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def published_policy(conn: Connection, policy: Policy) -> PublishedPolicy:
    """The published version of the policy this gateway runs; 503 until it is published."""
    found = policy_versions.get(conn, policy.version_id)
    if found is None:
        raise ServiceUnavailable(
            "The gateway's policy is not published yet: the administrator runs "
            "`gateway policy publish`. Try again later."
        )
    return found


def directory_document(conn: Connection, policy: Policy, now: datetime) -> bytes:
    """Every covenant party known to the gateway with its keys (revoked ones marked so)."""
    partners = []
    for record in directory.list_partners(conn):
        party = policy.parties.get(record.id)
        keys = [
            {
                "keyId": k.key_id,
                "ed25519": b64u(k.ed25519),
                "x25519": b64u(k.x25519),
                "encryptionKeyId": k.encryption_key_id,
                "status": k.status,
                "notBefore": k.not_before,
                "notAfter": k.not_after,
            }
            for k in directory.keys_of(conn, record.id)
        ]
        partners.append(
            {
                "id": record.id,
                "name": record.name,
                "roles": sorted(party.roles) if party else [],
                "keys": keys,
            }
        )
    return canonical_json(
        {
            "format": DIRECTORY_FORMAT,
            "generatedAt": iso_time(now),
            "policyVersion": policy.version_id,
            "partners": partners,
        }
    )


def sign_directory(key: SigningKey, document: bytes) -> bytes:
    return key.sign(DIRECTORY_CONTEXT + document)


def verify_directory(public_key: bytes, document: bytes, signature: bytes) -> None:
    """Raise SignatureInvalid unless the gateway signed this directory document."""
    verify_signature(public_key, DIRECTORY_CONTEXT + document, signature)
