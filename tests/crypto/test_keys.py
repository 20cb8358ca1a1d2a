"""Partner key files: passphrase-encrypted, owner-only, fingerprints that match."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from gateway.crypto.errors import KeyFormatError, WrongPassphrase
from gateway.crypto.keys import (
    KdfLimits,
    PartnerKeyPair,
    PublicKeys,
    decrypt_private_key,
    encrypt_private_key,
    read_private_key_file,
    write_key_files,
)
from gateway.errors import KeyFileError
from tests.crypto.factories import NOW

CHEAP = KdfLimits.cheap()
PASS = "correct horse battery"


def test_key_files_round_trip_and_are_owner_only(tmp_path: Path) -> None:
    pair = PartnerKeyPair.generate("wonen-limburg")
    private, public = write_key_files(pair, tmp_path, PASS, limits=CHEAP, created=NOW)
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    opened = read_private_key_file(private, PASS)
    assert opened.public == pair.public
    assert PublicKeys.from_json(public.read_bytes()) == pair.public


def test_wrong_passphrase_is_refused(tmp_path: Path) -> None:
    data = encrypt_private_key(PartnerKeyPair.generate("st-joseph"), PASS, CHEAP)
    with pytest.raises(WrongPassphrase):
        decrypt_private_key(data, "wrong horse battery")


def test_private_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    private, _ = write_key_files(
        PartnerKeyPair.generate("st-joseph"), tmp_path, PASS, limits=CHEAP, created=NOW
    )
    private.chmod(0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        read_private_key_file(private, PASS)


def test_altered_key_file_header_is_refused() -> None:
    doc = json.loads(encrypt_private_key(PartnerKeyPair.generate("st-joseph"), PASS, CHEAP))
    doc["partner"] = "wonen-limburg"
    with pytest.raises(WrongPassphrase, match="altered"):
        decrypt_private_key(json.dumps(doc).encode(), PASS)


@pytest.mark.parametrize("data", [b"", b"[]", b'{"format":"x"}', b"x" * 9000])
def test_garbage_key_file_is_refused(data: bytes) -> None:
    with pytest.raises(KeyFormatError):
        decrypt_private_key(data, PASS)


def test_short_passphrase_is_refused() -> None:
    with pytest.raises(KeyFormatError, match="8 characters"):
        encrypt_private_key(PartnerKeyPair.generate("st-joseph"), "short", CHEAP)


def test_public_key_file_with_wrong_fingerprint_is_refused() -> None:
    doc = json.loads(PartnerKeyPair.generate("st-joseph").public.to_json(NOW))
    doc["fingerprint"] = "aaaa bbbb cccc dddd eeee ffff"
    with pytest.raises(KeyFormatError, match="does not match"):
        PublicKeys.from_json(json.dumps(doc).encode())


def test_repr_never_shows_secrets() -> None:
    pair = PartnerKeyPair.generate("st-joseph")
    text = repr(pair)
    assert pair.signing_key.export_seed().hex() not in text
    assert bytes(pair.box_private_key()).hex() not in text
    assert pair.public.fingerprint in text
