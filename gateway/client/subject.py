"""The pseudonymous subject reference an envelope carries instead of a name or contract.

A keyed hash (HMAC-SHA256) of the landlord id and the contract reference, with a secret key
only the landlord's client holds: the same tenancy gives the same reference every month (so the
municipality can link repeated signals), while nobody without the key can compute or reverse it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

MIN_SECRET_BYTES = 16
SUBJECT_PATTERN = re.compile(r"^[A-Za-z0-9_-]{8,86}\Z")


def normalise_contract_reference(contract_reference: str) -> str:
    """Stripped, upper-case, without spaces: " wl-2024/ 00017" -> "WL-2024/00017"."""
    return "".join(contract_reference.split()).upper()


def subject_reference(secret: bytes, landlord_id: str, contract_reference: str) -> str:
    """base64url (no padding, 43 characters) of HMAC-SHA256(secret, landlord id NUL contract)."""
    if len(secret) < MIN_SECRET_BYTES:
        raise ValueError(f"the subject key must be at least {MIN_SECRET_BYTES} bytes")
    contract = normalise_contract_reference(contract_reference)
    if not landlord_id or not contract or "\x00" in landlord_id + contract:
        raise ValueError("landlord id and contract reference must be non-empty text")
    message = landlord_id.encode("utf-8") + b"\x00" + contract.encode("utf-8")
    digest = hmac.new(secret, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
