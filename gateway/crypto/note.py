"""Signed notes in the C2SP ``signed-note`` format, with Ed25519 keys.

A note is UTF-8 text ending in a newline, followed by a blank line and one signature line per
signer: ``— NAME BASE64(KEY_ID || SIGNATURE)``. The 4-byte key id is the first four bytes of
SHA-256(NAME || "\\n" || 0x01 || PUBLIC_KEY). Standard transparency-log tools read these
(checkpoints of the processing register are signed notes), and so can an auditor by hand.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from gateway.crypto.errors import CryptoError, KeyFormatError, SignatureInvalid
from gateway.crypto.signing import PUBLIC_KEY_BYTES, SIGNATURE_BYTES, SigningKey, verify_signature

ED25519_ALG = b"\x01"
SIGNATURE_PREFIX = "\u2014 "  # an em dash and a space
MAX_NOTE_BYTES = 1 << 20


class NoteFormatError(CryptoError):
    """The text is not a well-formed signed note."""

    code = "note-format"
    title = "Not a signed note"


class NoteSignatureMissing(CryptoError):
    """The note carries no signature by the expected key."""

    code = "note-unsigned"
    title = "Note not signed by the expected key"


def _canonical_b64decode(text: str) -> bytes | None:
    """Standard padded base64, only in its one canonical spelling; None for anything else.

    A lenient decoder ignores the unused low bits of the last character before the padding, so
    several spellings decode to the same bytes and a changed signature line would still open.
    """
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):  # not base64 at all (ValueError: not ASCII)
        return None
    return raw if base64.b64encode(raw).decode("ascii") == text else None


@dataclass(frozen=True)
class NoteVerifier:
    """A signer's name and Ed25519 public key; ``vkey`` is the C2SP verifier-key string."""

    name: str
    public_key: bytes

    def __post_init__(self) -> None:
        _check_name(self.name)
        if len(self.public_key) != PUBLIC_KEY_BYTES:
            raise KeyFormatError(f"An Ed25519 public key is 32 bytes, not {len(self.public_key)}.")

    @property
    def key_id(self) -> bytes:
        return note_key_id(self.name, self.public_key)

    @property
    def vkey(self) -> str:
        encoded = base64.b64encode(ED25519_ALG + self.public_key).decode("ascii")
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    @classmethod
    def from_vkey(cls, vkey: str) -> NoteVerifier:
        parts = vkey.strip().split("+", 2)
        if len(parts) != 3:
            raise KeyFormatError("A verifier key has the form NAME+KEYID+KEY.")
        name, key_id_hex, encoded = parts
        raw = _canonical_b64decode(encoded)
        if raw is None:
            raise KeyFormatError("The verifier key is not valid base64.")
        if len(raw) != 1 + PUBLIC_KEY_BYTES or raw[:1] != ED25519_ALG:
            raise KeyFormatError("The verifier key is not an Ed25519 key.")
        verifier = cls(name, raw[1:])
        if verifier.key_id.hex() != key_id_hex.lower():
            raise KeyFormatError("The verifier key's id does not match its name and key.")
        return verifier


def note_key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ED25519_ALG + public_key).digest()[:4]


def _check_name(name: str) -> None:
    if not name or len(name) > 255 or any(c.isspace() or c == "+" for c in name):
        raise NoteFormatError(f"A signer name is 1-255 characters without spaces or '+': {name!r}.")


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise NoteFormatError("A note's text ends with a newline.")
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise NoteFormatError("A note's text holds no control characters but newlines.")
    if "\n\n" in text:
        raise NoteFormatError("A note's text holds no blank line.")


def sign_note(text: str, key: SigningKey, name: str) -> str:
    """Return ``text`` as a signed note with one signature line by ``key`` under ``name``."""
    _check_name(name)
    _check_text(text)
    signature = key.sign(text.encode("utf-8"))
    blob = base64.b64encode(note_key_id(name, key.public_key) + signature).decode("ascii")
    return f"{text}\n{SIGNATURE_PREFIX}{name} {blob}\n"


def open_note(note: str, verifier: NoteVerifier) -> str:
    """Return the text of ``note`` once a signature by ``verifier`` checks; raise otherwise.

    Signature lines by other keys are ignored (a witness may have cosigned); a line that claims
    ``verifier``'s name and key id but does not verify raises :class:`SignatureInvalid`.
    """
    if len(note.encode("utf-8")) > MAX_NOTE_BYTES:
        raise NoteFormatError(f"A signed note is at most {MAX_NOTE_BYTES} bytes.")
    text, sep, signatures = note.rpartition("\n\n")
    if not sep or not signatures.endswith("\n"):
        raise NoteFormatError("A signed note is text, a blank line and signature lines.")
    text += "\n"
    _check_text(text)
    found = False
    for line in signatures[:-1].split("\n"):
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteFormatError("Every signature line starts with an em dash and a space.")
        name, _, blob = line[len(SIGNATURE_PREFIX) :].partition(" ")
        raw = _canonical_b64decode(blob)
        if raw is None:
            raise NoteFormatError("A signature line does not hold valid base64.")
        if len(raw) != 4 + SIGNATURE_BYTES:
            continue  # another algorithm's signature: not ours to judge
        if name != verifier.name or raw[:4] != verifier.key_id:
            continue  # another signer's line, for example a witness
        verify_signature(verifier.public_key, text.encode("utf-8"), raw[4:])
        found = True
    if not found:
        raise NoteSignatureMissing(f"The note is not signed by {verifier.name}.")
    return text


__all__ = [
    "NoteFormatError",
    "NoteSignatureMissing",
    "NoteVerifier",
    "SignatureInvalid",
    "open_note",
    "sign_note",
]
