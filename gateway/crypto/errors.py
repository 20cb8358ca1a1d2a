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


class WrongPassphrase(CryptoError):
    """The passphrase does not open the private key file (or the file was altered)."""

    code = "wrong-passphrase"
    title = "Wrong passphrase"


class EnvelopeError(CryptoError):
    """Base of every envelope failure: the envelope is refused and no plaintext is returned."""

    code = "envelope-invalid"
    title = "Envelope refused"


class EnvelopeMalformed(EnvelopeError):
    """The envelope is not well-formed (structure, encoding, canonical form, limits)."""

    code = "envelope-malformed"
    title = "Envelope is malformed"


class EnvelopeTooLarge(EnvelopeError):
    """The envelope is larger than the limit, refused before parsing."""

    code = "envelope-too-large"
    title = "Envelope is too large"
    status = 413


class UnsupportedVersion(EnvelopeError):
    """The envelope's version is not one this implementation speaks."""

    code = "envelope-version"
    title = "Unsupported envelope version"


class NotARecipient(EnvelopeError):
    """The opener is not listed as a recipient, or holds another key than the one sealed to."""

    code = "not-a-recipient"
    title = "Not a recipient of this envelope"
    status = 403


class DecryptionFailed(EnvelopeError):
    """The ciphertext does not decrypt with the recipient's key (tampered or misaddressed)."""

    code = "decryption-failed"
    title = "Ciphertext does not decrypt"


class BindingMismatch(EnvelopeError):
    """The decrypted payload is bound to another header or recipient than this one."""

    code = "binding-mismatch"
    title = "Payload not bound to this header"


class ManifestMismatch(EnvelopeError):
    """The decrypted fields differ from the field manifest in the header."""

    code = "manifest-mismatch"
    title = "Fields differ from the manifest"


class UnknownSenderKey(EnvelopeError):
    """The sender's key id is not known for that sender."""

    code = "unknown-sender-key"
    title = "Unknown sender key"
    status = 401


class SenderKeyRevoked(EnvelopeError):
    """The sender's key was revoked (or not valid at the envelope's time)."""

    code = "sender-key-revoked"
    title = "Sender key revoked"
    status = 401
