"""base64url without padding (RFC 4648 section 5), strict on decode."""

from __future__ import annotations

import base64
import binascii
import re

from gateway.crypto.errors import EnvelopeMalformed

_B64URL = re.compile(r"^[A-Za-z0-9_-]*\Z")


def b64u_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_decode(text: str, *, what: str = "value") -> bytes:
    """Decode canonical unpadded base64url; anything else raises EnvelopeMalformed."""
    if not isinstance(text, str) or not _B64URL.match(text) or len(text) % 4 == 1:
        raise EnvelopeMalformed(f"The {what} is not unpadded base64url.")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise EnvelopeMalformed(f"The {what} is not unpadded base64url.") from None
    if b64u_encode(data) != text:  # non-canonical trailing bits
        raise EnvelopeMalformed(f"The {what} is not canonical base64url.")
    return data
