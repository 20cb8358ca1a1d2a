"""Ed25519 signing keys (the gateway's own; partners' come with the envelope module)."""

from __future__ import annotations

import hashlib

import nacl.bindings
import nacl.exceptions
import nacl.signing

from gateway.crypto.errors import KeyFormatError, SignatureInvalid
from gateway.crypto.fingerprint import fingerprint

SEED_BYTES = 32
PUBLIC_KEY_BYTES = 32
SIGNATURE_BYTES = 64


class SigningKey:
    """An Ed25519 private key. ``repr`` shows only the public fingerprint."""

    __slots__ = ("_key", "_secret")

    def __init__(self, key: nacl.signing.SigningKey) -> None:
        self._key = key
        # libsodium's 64-byte secret key (seed || public key), for signing without PyNaCl's
        # SignedMessage object per call.
        self._secret = nacl.bindings.crypto_sign_seed_keypair(bytes(key))[1]

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(nacl.signing.SigningKey.generate())

    @classmethod
    def from_seed(cls, seed: bytes) -> SigningKey:
        if len(seed) != SEED_BYTES:
            raise KeyFormatError(f"An Ed25519 seed is {SEED_BYTES} bytes, not {len(seed)}.")
        return cls(nacl.signing.SigningKey(seed))

    def export_seed(self) -> bytes:
        """The 32 secret seed bytes, for writing to a 0600 key file. Handle with care."""
        return bytes(self._key)

    def derive_secret(self, context: bytes) -> bytes:
        """A 32-byte secret for ``context``, derived from the seed (keyed BLAKE2b).

        Used where the gateway needs a MAC key that an insider holding only the database key
        cannot recompute (the register's per-entry seal). Never leaves the process.
        """
        if not 1 <= len(context) <= 64:
            raise KeyFormatError("A derivation context is 1 to 64 bytes.")
        return hashlib.blake2b(context, key=bytes(self._key), digest_size=32).digest()

    @property
    def public_key(self) -> bytes:
        return bytes(self._key.verify_key)

    @property
    def fingerprint(self) -> str:
        return fingerprint("ed25519", self.public_key)

    def sign(self, message: bytes) -> bytes:
        """Return the 64-byte detached Ed25519 signature over ``message``."""
        return nacl.bindings.crypto_sign(message, self._secret)[:SIGNATURE_BYTES]

    def __repr__(self) -> str:
        return f"SigningKey(ed25519, fingerprint={self.fingerprint!r})"


def verify_signature(public_key: bytes, message: bytes, signature: bytes) -> None:
    """Raise :class:`SignatureInvalid` unless ``signature`` is valid for ``message``."""
    if len(public_key) != PUBLIC_KEY_BYTES:
        raise KeyFormatError(f"An Ed25519 public key is 32 bytes, not {len(public_key)}.")
    if len(signature) != SIGNATURE_BYTES:
        raise SignatureInvalid(f"An Ed25519 signature is 64 bytes, not {len(signature)}.")
    try:
        # What ``nacl.signing.VerifyKey(public_key).verify(message, signature)`` does, without
        # building a key object per call: libsodium's crypto_sign_open over signature||message.
        nacl.bindings.crypto_sign_open(signature + message, public_key)
    except nacl.exceptions.BadSignatureError:
        raise SignatureInvalid("The Ed25519 signature does not verify.") from None
