"""Signed notes (C2SP signed-note): round trip, tampering, foreign lines, verifier keys."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.crypto import SignatureInvalid, SigningKey
from gateway.crypto.errors import KeyFormatError
from gateway.crypto.note import (
    NoteFormatError,
    NoteSignatureMissing,
    NoteVerifier,
    open_note,
    sign_note,
)

KEY = SigningKey.from_seed(b"\x02" * 32)
NAME = "sluis.test/register"
VERIFIER = NoteVerifier(NAME, KEY.public_key)
TEXT = "sluis.test/register\n42\nq83vEjRuwPHRzxYvmA0RqVaFXKh3O4OSu7ibJn56vy4=\n"


def test_signed_note_opens_to_its_text() -> None:
    assert open_note(sign_note(TEXT, KEY, NAME), VERIFIER) == TEXT


def test_key_id_follows_c2sp() -> None:
    import hashlib

    expected = hashlib.sha256(NAME.encode() + b"\n\x01" + KEY.public_key).digest()[:4]
    assert VERIFIER.key_id == expected


def test_verifier_key_round_trips_even_with_plus_in_base64() -> None:
    for seed in range(40):  # some of these keys have '+' in their base64
        key = SigningKey.from_seed(bytes([seed]) * 32)
        verifier = NoteVerifier(NAME, key.public_key)
        assert NoteVerifier.from_vkey(verifier.vkey) == verifier


def test_forged_verifier_key_id_is_refused() -> None:
    name, _, rest = VERIFIER.vkey.partition("+")
    with pytest.raises(KeyFormatError):
        NoteVerifier.from_vkey(f"{name}+00000000+{rest.partition('+')[2]}")


def test_note_signed_by_another_key_is_not_accepted() -> None:
    other = SigningKey.from_seed(b"\x03" * 32)
    with pytest.raises(NoteSignatureMissing):
        open_note(sign_note(TEXT, other, NAME), VERIFIER)


def test_witness_lines_are_ignored_but_ours_must_verify() -> None:
    witness = SigningKey.from_seed(b"\x04" * 32)
    ours = sign_note(TEXT, KEY, NAME)
    theirs = sign_note(TEXT, witness, "witness.example")
    both = ours + theirs.split("\n\n", 1)[1]
    assert open_note(both, VERIFIER) == TEXT


def test_changed_text_is_refused() -> None:
    note = sign_note(TEXT, KEY, NAME).replace("\n42\n", "\n43\n")
    with pytest.raises(SignatureInvalid):
        open_note(note, VERIFIER)


def _respell_last_character(blob: str) -> str:
    """The same bytes in another base64 spelling: the last character before the padding with
    different unused low bits."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    body = blob.rstrip("=")
    unused = {1: 2, 2: 4}[len(blob) - len(body)]
    last = alphabet.index(body[-1])
    respelled = alphabet[last ^ (1 << (unused - 1))]
    return body[:-1] + respelled + blob[len(body) :]


def test_a_signature_line_in_another_base64_spelling_does_not_open() -> None:
    """Found by the property test below: a lenient decoder ignored the unused bits."""
    note = sign_note(TEXT, KEY, NAME)
    head, _, blob = note.rstrip("\n").rpartition(" ")
    respelled = f"{head} {_respell_last_character(blob)}\n"
    assert respelled != note
    with pytest.raises(NoteFormatError):
        open_note(respelled, VERIFIER)


@settings(max_examples=200)
@given(st.data())
def test_any_byte_change_never_opens(data: st.DataObject) -> None:
    note = sign_note(TEXT, KEY, NAME).encode()
    index = data.draw(st.integers(0, len(note) - 1))
    flip = data.draw(st.integers(1, 255))
    changed = bytearray(note)
    changed[index] ^= flip
    try:
        text = changed.decode("utf-8")
    except UnicodeDecodeError:
        return  # not text any more: nothing to open
    with pytest.raises((NoteFormatError, NoteSignatureMissing, SignatureInvalid)):
        open_note(text, VERIFIER)


@pytest.mark.parametrize(
    "text", ["no newline", "blank\n\nline\n", "control \x07\n"], ids=["newline", "blank", "ctrl"]
)
def test_malformed_text_cannot_be_signed(text: str) -> None:
    with pytest.raises(NoteFormatError):
        sign_note(text, KEY, NAME)


def test_name_with_space_is_refused() -> None:
    with pytest.raises(NoteFormatError):
        sign_note(TEXT, KEY, "two words")


def test_note_without_signature_block_is_refused() -> None:
    with pytest.raises(NoteFormatError):
        open_note(TEXT, VERIFIER)
