"""Checkpoints in the C2SP ``tlog-checkpoint`` format, signed as C2SP signed notes.

The body is three lines: the log's origin, the tree size in decimal, and the RFC 9162 root hash
in standard base64. Standard transparency-log tools (and a person with a text editor) read it.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from gateway.crypto import SigningKey
from gateway.crypto.note import NoteFormatError, NoteVerifier, open_note, sign_note
from gateway.register.merkle import HASH_BYTES


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def body(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode('ascii')}\n"

    def sign(self, key: SigningKey) -> str:
        return sign_note(self.body(), key, self.origin)


def parse_body(text: str) -> Checkpoint:
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise NoteFormatError("A checkpoint has an origin, a size and a root hash line.")
    origin, size_text, root_text = lines[0], lines[1], lines[2]
    if not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
        raise NoteFormatError(f"The checkpoint size {size_text!r} is not a decimal number.")
    try:
        root = base64.b64decode(root_text, validate=True)
    except binascii.Error:
        raise NoteFormatError("The checkpoint root hash is not base64.") from None
    if len(root) != HASH_BYTES:
        raise NoteFormatError("The checkpoint root hash is not 32 bytes.")
    return Checkpoint(origin, int(size_text), root)


def open_checkpoint(note: str, verifier: NoteVerifier) -> Checkpoint:
    """The checkpoint in ``note`` once its signature by ``verifier`` checks; raise otherwise."""
    checkpoint = parse_body(open_note(note, verifier))
    if checkpoint.origin != verifier.name:
        raise NoteFormatError(
            f"The checkpoint is for log {checkpoint.origin!r}, not {verifier.name!r}."
        )
    return checkpoint
