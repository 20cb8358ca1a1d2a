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


# --- HTTP message signatures (RFC 9421) on partner API requests ------------------------------
# Messages are fixed sentences: they never echo header text, so log lines carry no request data.


class RequestSignatureError(CryptoError):
    """Base of every refused request signature; the API answers each with 401."""

    code = "request-signature"
    title = "Request signature refused"
    status = 401


class SignatureHeaderMissing(RequestSignatureError):
    """Signature-Input or Signature is absent, or has no entry for the Sluis signature."""

    code = "signature-header-missing"
    title = "Signature header missing"


class SignatureHeaderTooLarge(RequestSignatureError):
    """A signature or digest header is longer than the limit, refused before parsing."""

    code = "signature-header-too-large"
    title = "Signature header too large"


class SignatureHeaderMalformed(RequestSignatureError):
    """Signature-Input or Signature is not the structured field RFC 9421 prescribes."""

    code = "signature-header-malformed"
    title = "Signature header malformed"


class SluisSignatureMissing(RequestSignatureError):
    """No signature in the request carries the required tag."""

    code = "sluis-signature-missing"
    title = "No Sluis signature"


class SignatureAmbiguous(RequestSignatureError):
    """More than one signature carries the tag, or a label is repeated."""

    code = "signature-ambiguous"
    title = "Ambiguous signatures"


class CoverageIncomplete(RequestSignatureError):
    """The signature does not cover a required component (content-digest first of all)."""

    code = "signature-coverage-incomplete"
    title = "Signature coverage incomplete"


class ComponentNotAllowed(RequestSignatureError):
    """The signature covers a component Sluis does not accept (or one twice, or with params)."""

    code = "signature-component-not-allowed"
    title = "Covered component not accepted"


class CoveredHeaderMissing(RequestSignatureError):
    """The signature covers a header field that the request does not carry."""

    code = "signature-covered-header-missing"
    title = "Covered header missing"


class SignatureParameterMissing(RequestSignatureError):
    """A required signature parameter (created, keyid, nonce, tag) is absent."""

    code = "signature-parameter-missing"
    title = "Signature parameter missing"


class SignatureParameterInvalid(RequestSignatureError):
    """A signature parameter is unknown, repeated or of the wrong type."""

    code = "signature-parameter-invalid"
    title = "Signature parameter invalid"


class AlgorithmNotAllowed(RequestSignatureError):
    """The alg parameter names another algorithm than ed25519."""

    code = "signature-algorithm-not-allowed"
    title = "Signature algorithm not accepted"


class NonceInvalid(RequestSignatureError):
    """The nonce is not 16 to 64 base64url characters."""

    code = "signature-nonce-invalid"
    title = "Signature nonce invalid"


class SignatureExpired(RequestSignatureError):
    """The signature is older than the allowed age, or past its expires time."""

    code = "signature-expired"
    title = "Signature expired"


class SignatureFromFuture(RequestSignatureError):
    """The signature's created time lies further in the future than the allowed clock skew."""

    code = "signature-from-future"
    title = "Signature created in the future"


class UnknownKeyId(RequestSignatureError):
    """The key id names no registered partner key."""

    code = "signature-unknown-key"
    title = "Unknown signing key"


class KeyIdMismatch(RequestSignatureError):
    """The key id is not the fingerprint of the key registered under it."""

    code = "signature-key-id-mismatch"
    title = "Key id does not match its key"


class ContentDigestMissing(RequestSignatureError):
    """The request carries no Content-Digest header."""

    code = "content-digest-missing"
    title = "Content-Digest missing"


class ContentDigestMalformed(RequestSignatureError):
    """Content-Digest is not a dictionary of byte sequences (RFC 9530)."""

    code = "content-digest-malformed"
    title = "Content-Digest malformed"


class ContentDigestAlgorithm(RequestSignatureError):
    """Content-Digest uses an algorithm other than sha-256 or sha-512."""

    code = "content-digest-algorithm"
    title = "Content-Digest algorithm not accepted"


class ContentDigestMismatch(RequestSignatureError):
    """The Content-Digest does not match the body as received."""

    code = "content-digest-mismatch"
    title = "Content-Digest does not match the body"


class RequestComponentInvalid(RequestSignatureError):
    """A covered request value (method, authority, path, query, header) cannot be signed."""

    code = "signature-request-component-invalid"
    title = "Request component invalid"


class RequestSignatureInvalid(RequestSignatureError):
    """The Ed25519 signature does not verify over the rebuilt signature base."""

    code = "request-signature-invalid"
    title = "Request signature does not verify"


class PasswordMismatch(CryptoError):
    """A password does not match its stored hash (or the hash is not one Sluis writes)."""

    code = "password-mismatch"
    title = "Password does not match"
    status = 401
