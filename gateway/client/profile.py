"""The partner profile: where the gateway is, who we are, where our key is, whom we trust.

Created by ``gateway-client init``. JSON, 0600, beside a ``state`` folder that holds the
verified policy and directory, the send journal and the receipts. The gateway's Ed25519 public
key is pinned here at onboarding (compare its fingerprint with the gateway admin by phone);
everything the gateway signs is checked against it.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.client.errors import ProfileError
from gateway.crypto import fingerprint
from gateway.keyfiles import read_secret, write_secret

PROFILE_FORMAT = "sluis-client-profile/1"
_URL = re.compile(r"https?://[A-Za-z0-9.\-\[\]:]+(?:/[A-Za-z0-9._~/-]*)?\Z")
_PARTNER = re.compile(r"[a-z][a-z0-9-]{0,62}\Z")


@dataclass(frozen=True)
class Profile:
    path: Path
    gateway_url: str
    partner: str
    key_file: Path
    gateway_public_key: bytes

    @property
    def folder(self) -> Path:
        return self.path.parent

    @property
    def state_dir(self) -> Path:
        return self.folder / "state"

    @property
    def subject_secret_file(self) -> Path:
        """The landlord's secret for subject references (never leaves this machine)."""
        return self.folder / f"{self.partner}.subject.key"

    @property
    def gateway_fingerprint(self) -> str:
        return fingerprint("ed25519", self.gateway_public_key)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": PROFILE_FORMAT,
            "gatewayUrl": self.gateway_url,
            "partner": self.partner,
            "keyFile": os.path.relpath(self.key_file, self.folder),
            "gatewayPublicKey": self.gateway_public_key.hex(),
        }


def check_url(url: str) -> str:
    url = url.rstrip("/")
    if not _URL.match(url):
        raise ProfileError(f"{url!r} is not a gateway address such as https://sluis.example.nl.")
    return url


def save_profile(profile: Profile) -> None:
    data = json.dumps(profile.to_json(), indent=2).encode() + b"\n"
    write_secret(profile.path, data)


def load_profile(path: Path) -> Profile:
    """Read a profile; every problem is one sentence naming the file and the key."""
    try:
        doc = json.loads(read_secret(path, what="client profile"))
    except ValueError:
        raise ProfileError(f"The profile {path} is not valid JSON.") from None
    if not isinstance(doc, dict) or doc.get("format") != PROFILE_FORMAT:
        raise ProfileError(f"The profile {path} is not a Sluis client profile.")
    try:
        partner = str(doc["partner"])
        public = bytes.fromhex(str(doc["gatewayPublicKey"]))
        key_file = (path.parent / str(doc["keyFile"])).resolve()
        url = check_url(str(doc["gatewayUrl"]))
    except KeyError as missing:
        raise ProfileError(f"The profile {path} lacks {missing}.") from None
    except ValueError:
        raise ProfileError(f"The profile {path}: gatewayPublicKey is not hexadecimal.") from None
    if not _PARTNER.match(partner) or len(public) != 32:
        raise ProfileError(f"The profile {path} names no valid partner id or gateway key.")
    return Profile(path, url, partner, key_file, public)
