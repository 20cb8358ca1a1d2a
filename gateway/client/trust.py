"""The policy bundle and the partner directory, as the client trusts them.

Both are fetched from the gateway, checked against the gateway key pinned in the profile, and
cached in the state folder with the time they were fetched. Sealing uses only a verified policy
no older than ``MAX_AGE``: a stale or unverified cache is refused with the command to run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from gateway.client.errors import UntrustedData
from gateway.client.profile import Profile
from gateway.client.session import Session
from gateway.crypto import CryptoError
from gateway.crypto.encoding import b64u_decode
from gateway.crypto.errors import EnvelopeMalformed, SenderKeyRevoked, UnknownSenderKey
from gateway.crypto.keys import PublicKeys
from gateway.policy import Policy
from gateway.policy.bundle import BundleInvalid, policy_from_bundle
from gateway.services.policy_publishing import verify_bundle
from gateway.services.publication import verify_directory

MAX_AGE = timedelta(hours=24)
POLICY_CACHE = "policy-bundle.json"
DIRECTORY_CACHE = "partner-directory.json"


def _unb64(text: Any) -> bytes:
    if not isinstance(text, str):
        raise UntrustedData("The gateway sent a malformed document.")
    try:
        return b64u_decode(text)
    except EnvelopeMalformed:  # not canonical unpadded base64url, as the gateway writes it
        raise UntrustedData("The gateway sent a malformed document.") from None


def _write(path: Path, doc: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=1))
    tmp.chmod(0o600)
    tmp.replace(path)


def _read(path: Path, what: str, command: str) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        raise UntrustedData(f"No verified {what} on this machine: run `{command}`.") from None
    if not isinstance(doc, dict):
        raise UntrustedData(f"The cached {what} is damaged: run `{command}`.")
    return doc


def _fresh(doc: dict[str, Any], now: datetime, what: str, command: str) -> datetime:
    try:
        fetched = datetime.fromisoformat(str(doc["fetchedAt"]))
    except (KeyError, ValueError):
        raise UntrustedData(f"The cached {what} is damaged: run `{command}`.") from None
    if now - fetched > MAX_AGE:
        raise UntrustedData(
            f"The cached {what} was fetched {fetched:%d-%m-%Y %H:%M} and is older than "
            f"{int(MAX_AGE.total_seconds() // 3600)} hours: run `{command}`."
        )
    return fetched


# -- policy -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrustedPolicy:
    policy: Policy
    fetched_at: datetime


def _verified_policy(profile: Profile, doc: dict[str, Any]) -> Policy:
    bundle = _unb64(doc.get("bundle"))
    try:
        verify_bundle(profile.gateway_public_key, bundle, _unb64(doc.get("signature")))
        policy = policy_from_bundle(bundle)
    except (CryptoError, BundleInvalid):
        raise UntrustedData(
            "The policy bundle is not signed by the gateway key in your profile: do not send; "
            "call the gateway administrator."
        ) from None
    if policy.version_id != doc.get("versionId"):
        raise UntrustedData("The policy bundle's version does not match its content.")
    return policy


def pull_policy(session: Session, profile: Profile, now: datetime) -> TrustedPolicy:
    doc = session.call("GET", "/api/v1/policy-bundle").json()
    policy = _verified_policy(profile, doc)
    _write(profile.state_dir / POLICY_CACHE, {**doc, "fetchedAt": now.isoformat()})
    return TrustedPolicy(policy, now)


def cached_policy(profile: Profile, now: datetime) -> TrustedPolicy:
    command = "gateway-client policy pull"
    doc = _read(profile.state_dir / POLICY_CACHE, "policy", command)
    fetched = _fresh(doc, now, "policy", command)
    return TrustedPolicy(_verified_policy(profile, doc), fetched)


# -- directory --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DirectoryKey:
    keys: PublicKeys
    key_id: str
    encryption_key_id: str
    status: str
    not_before: str
    not_after: str | None


@dataclass(frozen=True)
class Directory:
    """The partners and their public keys, as the gateway signed them."""

    partners: dict[str, tuple[DirectoryKey, ...]]
    fetched_at: datetime

    def encryption_keys(self, partner: str, now: datetime) -> PublicKeys:
        """The key to seal to: the partner's active key valid now."""
        moment = now.astimezone(UTC).isoformat(timespec="seconds")
        for key in self.partners.get(partner, ()):
            if (
                key.status == "active"
                and key.not_before <= moment
                and (key.not_after is None or moment <= key.not_after)
            ):
                return key.keys
        raise UntrustedData(
            f"The directory has no active key for '{partner}': run "
            "`gateway-client directory pull`, or ask the gateway administrator."
        )

    def ed25519_for(self, partner: str, key_id: str, when: datetime) -> bytes:
        """SenderKeys for opening: rotated keys still verify messages made before rotation."""
        for key in self.partners.get(partner, ()):
            if key.key_id == key_id:
                if key.status == "revoked":
                    raise SenderKeyRevoked(f"The key {key_id} of '{partner}' is revoked.")
                return key.keys.ed25519
        raise UnknownSenderKey(f"No key {key_id} of '{partner}' is in the directory.")


def _verified_directory(profile: Profile, doc: dict[str, Any], fetched: datetime) -> Directory:
    document = _unb64(doc.get("document"))
    try:
        verify_directory(profile.gateway_public_key, document, _unb64(doc.get("signature")))
    except CryptoError:
        raise UntrustedData(
            "The partner directory is not signed by the gateway key in your profile: do not "
            "send; call the gateway administrator."
        ) from None
    parsed = json.loads(document)
    partners: dict[str, tuple[DirectoryKey, ...]] = {}
    for partner in parsed["partners"]:
        keys = []
        for key in partner["keys"]:
            public = PublicKeys(partner["id"], _unb64(key["ed25519"]), _unb64(key["x25519"]))
            if public.key_id != key["keyId"]:
                raise UntrustedData("The partner directory lists a key under another id.")
            keys.append(
                DirectoryKey(
                    public,
                    key["keyId"],
                    key["encryptionKeyId"],
                    key["status"],
                    key["notBefore"],
                    key["notAfter"],
                )
            )
        partners[partner["id"]] = tuple(keys)
    return Directory(partners, fetched)


def pull_directory(session: Session, profile: Profile, now: datetime) -> Directory:
    doc = session.call("GET", "/api/v1/partner-directory").json()
    directory = _verified_directory(profile, doc, now)
    _write(profile.state_dir / DIRECTORY_CACHE, {**doc, "fetchedAt": now.isoformat()})
    return directory


def cached_directory(profile: Profile, now: datetime) -> Directory:
    command = "gateway-client directory pull"
    doc = _read(profile.state_dir / DIRECTORY_CACHE, "partner directory", command)
    fetched = _fresh(doc, now, "partner directory", command)
    return _verified_directory(profile, doc, fetched)
