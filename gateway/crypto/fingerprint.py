"""Short, human-comparable key fingerprints.

A fingerprint is 120 bits of SHA-256 over a domain-separated public key, written as six groups
of four lowercase base32 letters and digits, for example ``k3mq 7xzt a2pd 4rwh yb6c nf5e``.
Base32 avoids letters that are confused when read aloud (no 0/O, 1/l/I in the alphabet's digits
2-7). The compact form without spaces is the key id used in HTTP message signatures.
"""

from __future__ import annotations

import base64
import hashlib

FINGERPRINT_BYTES = 15  # 120 bits: 24 base32 characters, no padding


def fingerprint(kind: str, public_key: bytes, *, compact: bool = False) -> str:
    """Return the fingerprint of ``public_key`` of the given ``kind`` (e.g. ``ed25519``)."""
    digest = hashlib.sha256(b"sluis-key-fingerprint-v1\x00" + kind.encode() + b"\x00" + public_key)
    text = base64.b32encode(digest.digest()[:FINGERPRINT_BYTES]).decode().lower()
    if compact:
        return text
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))
