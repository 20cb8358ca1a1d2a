"""Typed crypto failures. Each failure kind is its own class so callers never parse messages."""

from __future__ import annotations

from gateway.errors import SluisError


class CryptoError(SluisError):
    """Base of every crypto failure."""

    code = "crypto-error"
    title = "Cryptographic check failed"
    status = 400


class SignatureInvalid(CryptoError):
    """A signature does not verify under the given public key."""

    code = "signature-invalid"
    title = "Signature does not verify"


class KeyFormatError(CryptoError):
    """Bytes that should be a key are not one (wrong length or encoding)."""

    code = "key-format"
    title = "Not a valid key"
