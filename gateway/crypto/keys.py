"""Partner key pairs: Ed25519 for signing and X25519 for encryption, generated together.

The private half lives only on the partner's machine, in a file encrypted with a passphrase
(argon2id, then XSalsa20-Poly1305). The public half travels as a small JSON file that the
partner hands to the gateway admin, who compares its fingerprint with the one the partner reads
aloud. The partner's key id is the compact fingerprint of its Ed25519 key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import nacl.exceptions
import nacl.public
import nacl.pwhash
import nacl.secret
import nacl.utils

from gateway.crypto.encoding import b64u_decode, b64u_encode
from gateway.crypto.errors import EnvelopeMalformed, KeyFormatError, WrongPassphrase
from gateway.crypto.fingerprint import fingerprint
from gateway.crypto.signing import SigningKey
from gateway.keyfiles import read_secret, write_public, write_secret

PRIVATE_FORMAT = "sluis-partner-private-key-v1"
PUBLIC_FORMAT = "sluis-partner-public-key-v1"
MAX_KEY_FILE_BYTES = 8 * 1024


@dataclass(frozen=True)
class KdfLimits:
    """argon2id cost. Defaults are libsodium's MODERATE; tests pass ``KdfLimits.cheap()``."""

    opslimit: int = nacl.pwhash.argon2id.OPSLIMIT_MODERATE
    memlimit: int = nacl.pwhash.argon2id.MEMLIMIT_MODERATE

    @classmethod
    def cheap(cls) -> KdfLimits:
        """The minimum cost: for tests only, never for a real key file."""
        return cls(nacl.pwhash.argon2id.OPSLIMIT_MIN, nacl.pwhash.argon2id.MEMLIMIT_MIN)


@dataclass(frozen=True)
class PublicKeys:
    """A partner's public keys: what the gateway's key directory holds."""

    partner: str
    ed25519: bytes
    x25519: bytes

    def __post_init__(self) -> None:
        if len(self.ed25519) != 32 or len(self.x25519) != 32:
            raise KeyFormatError("Partner public keys are 32 bytes each.")

    @cached_property
    def key_id(self) -> str:
        """The compact Ed25519 fingerprint: the key id in signatures and envelopes."""
        return fingerprint("ed25519", self.ed25519, compact=True)

    @cached_property
    def fingerprint(self) -> str:
        """The Ed25519 fingerprint in groups of four, to read aloud."""
        return fingerprint("ed25519", self.ed25519)

    @cached_property
    def encryption_key_id(self) -> str:
        return fingerprint("x25519", self.x25519, compact=True)

    def to_json(self, created: datetime) -> bytes:
        document = {
            "format": PUBLIC_FORMAT,
            "partner": self.partner,
            "ed25519": b64u_encode(self.ed25519),
            "x25519": b64u_encode(self.x25519),
            "fingerprint": self.fingerprint,
            "created": created.isoformat(timespec="seconds"),
        }
        return json.dumps(document, indent=2).encode() + b"\n"

    @classmethod
    def from_json(cls, data: bytes) -> PublicKeys:
        """Parse a public-key file, checking that its stated fingerprint matches its key."""
        if len(data) > MAX_KEY_FILE_BYTES:
            raise KeyFormatError("The public-key file is too large.")
        try:
            doc = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            raise KeyFormatError("The public-key file is not JSON.") from None
        if not isinstance(doc, dict) or doc.get("format") != PUBLIC_FORMAT:
            raise KeyFormatError(f"The public-key file is not in the {PUBLIC_FORMAT} format.")
        try:
            keys = cls(
                str(doc["partner"]),
                b64u_decode(doc["ed25519"], what="ed25519 key"),
                b64u_decode(doc["x25519"], what="x25519 key"),
            )
        except (KeyError, EnvelopeMalformed) as error:
            raise KeyFormatError(f"The public-key file lacks a valid key: {error}") from None
        if doc.get("fingerprint") != keys.fingerprint:
            raise KeyFormatError("The fingerprint in the public-key file does not match its key.")
        return keys


class PartnerKeyPair:
    """A partner's private keys. ``repr`` shows only the partner and fingerprint."""

    __slots__ = ("_encryption", "_public", "_signing", "partner")

    def __init__(
        self, partner: str, signing: SigningKey, encryption: nacl.public.PrivateKey
    ) -> None:
        self.partner = partner
        self._signing = signing
        self._encryption = encryption
        self._public = PublicKeys(partner, signing.public_key, bytes(encryption.public_key))

    @classmethod
    def generate(cls, partner: str) -> PartnerKeyPair:
        return cls(partner, SigningKey.generate(), nacl.public.PrivateKey.generate())

    @classmethod
    def from_seeds(
        cls, partner: str, signing_seed: bytes, encryption_secret: bytes
    ) -> PartnerKeyPair:
        """Rebuild from the two 32-byte secrets (key files and test vectors)."""
        if len(encryption_secret) != 32:
            raise KeyFormatError("An X25519 private key is 32 bytes.")
        return cls(
            partner, SigningKey.from_seed(signing_seed), nacl.public.PrivateKey(encryption_secret)
        )

    @property
    def public(self) -> PublicKeys:
        return self._public

    @property
    def signing_key(self) -> SigningKey:
        return self._signing

    def box_private_key(self) -> nacl.public.PrivateKey:
        """The X25519 private key, for the envelope module only."""
        return self._encryption

    def _secrets(self) -> bytes:
        return self._signing.export_seed() + bytes(self._encryption)

    def __repr__(self) -> str:
        return f"PartnerKeyPair({self.partner!r}, fingerprint={self.public.fingerprint!r})"


def _derive(passphrase: str, salt: bytes, limits: KdfLimits) -> bytes:
    return bytes(
        nacl.pwhash.argon2id.kdf(
            nacl.secret.SecretBox.KEY_SIZE,
            passphrase.encode("utf-8"),
            salt,
            opslimit=limits.opslimit,
            memlimit=limits.memlimit,
        )
    )


def encrypt_private_key(pair: PartnerKeyPair, passphrase: str, limits: KdfLimits) -> bytes:
    """The private-key file's bytes: both secrets sealed under an argon2id-derived key."""
    if len(passphrase) < 8:
        raise KeyFormatError("A passphrase has at least 8 characters.")
    salt = nacl.utils.random(nacl.pwhash.argon2id.SALTBYTES)
    box = nacl.secret.SecretBox(_derive(passphrase, salt, limits))
    header = {
        "format": PRIVATE_FORMAT,
        "partner": pair.partner,
        "kdf": "argon2id",
        "opslimit": limits.opslimit,
        "memlimit": limits.memlimit,
        "salt": b64u_encode(salt),
    }
    # The header is authenticated as associated data by putting its bytes inside the box too.
    header_bytes = json.dumps(header, sort_keys=True).encode()
    sealed = box.encrypt(header_bytes + b"\n" + pair._secrets())
    document = {**header, "box": b64u_encode(bytes(sealed))}
    return json.dumps(document, indent=2).encode() + b"\n"


def decrypt_private_key(data: bytes, passphrase: str) -> PartnerKeyPair:
    """Open a private-key file; a wrong passphrase or an altered file raises WrongPassphrase."""
    if len(data) > MAX_KEY_FILE_BYTES:
        raise KeyFormatError("The private-key file is too large.")
    try:
        doc: dict[str, Any] = json.loads(data)
        header = {k: doc[k] for k in ("format", "partner", "kdf", "opslimit", "memlimit", "salt")}
        sealed = b64u_decode(doc["box"], what="key box")
        salt = b64u_decode(doc["salt"], what="salt")
        limits = KdfLimits(int(doc["opslimit"]), int(doc["memlimit"]))
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, EnvelopeMalformed):
        raise KeyFormatError("The private-key file is not a Sluis partner key file.") from None
    if header["format"] != PRIVATE_FORMAT or header["kdf"] != "argon2id":
        raise KeyFormatError(f"The private-key file is not in the {PRIVATE_FORMAT} format.")
    if limits.memlimit > 4 * nacl.pwhash.argon2id.MEMLIMIT_SENSITIVE or limits.opslimit > 64:
        raise KeyFormatError("The private-key file asks for an unreasonable KDF cost.")
    try:
        plain = nacl.secret.SecretBox(_derive(passphrase, salt, limits)).decrypt(sealed)
    except (nacl.exceptions.CryptoError, ValueError):
        raise WrongPassphrase("The passphrase does not open this key file.") from None
    expected = json.dumps(header, sort_keys=True).encode() + b"\n"
    if not plain.startswith(expected) or len(plain) != len(expected) + 64:
        raise WrongPassphrase("The key file's header was altered.")
    secrets = plain[len(expected) :]
    return PartnerKeyPair.from_seeds(str(header["partner"]), secrets[:32], secrets[32:])


def write_key_files(
    pair: PartnerKeyPair, directory: Path, passphrase: str, *, limits: KdfLimits, created: datetime
) -> tuple[Path, Path]:
    """Write ``<partner>.key`` (0600, encrypted) and ``<partner>.pub.json`` into ``directory``."""
    private = directory / f"{pair.partner}.key"
    public = directory / f"{pair.partner}.pub.json"
    write_secret(private, encrypt_private_key(pair, passphrase, limits))
    write_public(public, pair.public.to_json(created))
    return private, public


def read_private_key_file(path: Path, passphrase: str) -> PartnerKeyPair:
    """Read a private-key file, refusing one that others can read (0600 required)."""
    return decrypt_private_key(read_secret(path, what="partner private key"), passphrase)
