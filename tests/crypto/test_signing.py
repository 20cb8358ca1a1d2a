"""Ed25519 signing: RFC 8032 known answers, tamper tests, and no secret in repr."""

from __future__ import annotations

import nacl.exceptions
import nacl.signing
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.crypto import SignatureInvalid, SigningKey, fingerprint, verify_signature
from gateway.crypto.errors import KeyFormatError

# RFC 8032, section 7.1, TEST 1 (empty message).
RFC8032_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC8032_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
RFC8032_SIGNATURE = bytes.fromhex(
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
)

KEY = SigningKey.generate()


def test_rfc8032_known_answer() -> None:
    key = SigningKey.from_seed(RFC8032_SEED)
    assert key.public_key == RFC8032_PUBLIC
    assert key.sign(b"") == RFC8032_SIGNATURE
    verify_signature(RFC8032_PUBLIC, b"", RFC8032_SIGNATURE)


def test_fingerprint_known_answer() -> None:
    # Pinned: changing the fingerprint format breaks every partner's onboarding record.
    assert fingerprint("ed25519", RFC8032_PUBLIC) == "bne3 mk6y j57f wl75 s7u6 l5bm"
    assert fingerprint("ed25519", RFC8032_PUBLIC, compact=True) == "bne3mk6yj57fwl75s7u6l5bm"


def test_fingerprint_is_bound_to_key_kind() -> None:
    assert fingerprint("x25519", RFC8032_PUBLIC) != fingerprint("ed25519", RFC8032_PUBLIC)


def test_repr_shows_fingerprint_not_seed() -> None:
    key = SigningKey.from_seed(RFC8032_SEED)
    text = repr(key) + str(key)
    assert RFC8032_SEED.hex() not in text
    assert "bne3 mk6y" in text


@given(st.binary(max_size=256))
def test_signature_verifies_for_its_message(message: bytes) -> None:
    verify_signature(KEY.public_key, message, KEY.sign(message))


@given(st.binary(min_size=1, max_size=64), st.data())
def test_any_flipped_byte_of_message_fails(message: bytes, data: st.DataObject) -> None:
    signature = KEY.sign(message)
    index = data.draw(st.integers(0, len(message) - 1))
    flip = data.draw(st.integers(1, 255))
    changed = bytearray(message)
    changed[index] ^= flip
    with pytest.raises(SignatureInvalid):
        verify_signature(KEY.public_key, bytes(changed), signature)


@given(st.integers(0, 63), st.integers(1, 255))
def test_any_flipped_byte_of_signature_fails(index: int, flip: int) -> None:
    signature = bytearray(KEY.sign(b"message"))
    signature[index] ^= flip
    with pytest.raises(SignatureInvalid):
        verify_signature(KEY.public_key, b"message", bytes(signature))


def test_wrong_key_fails() -> None:
    with pytest.raises(SignatureInvalid):
        verify_signature(SigningKey.generate().public_key, b"m", KEY.sign(b"m"))


def test_malformed_inputs_raise_typed_errors() -> None:
    with pytest.raises(KeyFormatError):
        SigningKey.from_seed(b"short")
    with pytest.raises(KeyFormatError):
        verify_signature(b"short", b"m", KEY.sign(b"m"))
    with pytest.raises(SignatureInvalid):
        verify_signature(KEY.public_key, b"m", b"short")


# Small-order points and a non-canonical encoding: libsodium refuses both as public keys.
_ODD_KEYS = [bytes(32), b"\x01" + bytes(31), b"\xee" + b"\xff" * 30 + b"\x7f"]


@settings(max_examples=300)
@given(
    st.one_of(st.binary(min_size=32, max_size=32), st.sampled_from(_ODD_KEYS)),
    st.binary(max_size=64),
    st.integers(0, 63),
    st.integers(0, 255),
)
def test_verification_agrees_with_pynacl_verify_key(
    public_key: bytes, message: bytes, index: int, flip: int
) -> None:
    # verify_signature calls libsodium without a VerifyKey object; it must judge alike.
    for key, signature in ((KEY.public_key, KEY.sign(message)), (public_key, KEY.sign(message))):
        changed = bytearray(signature)
        changed[index] ^= flip
        for candidate in (signature, bytes(changed)):
            try:
                nacl.signing.VerifyKey(key).verify(message, candidate)
                expected = True
            except nacl.exceptions.BadSignatureError:  # the reference refuses
                expected = False
            try:
                verify_signature(key, message, candidate)
                actual = True
            except SignatureInvalid:  # ours refuses
                actual = False
            assert actual == expected


@given(st.binary(max_size=300))
def test_signatures_equal_pynacl_signing_key(message: bytes) -> None:
    # sign() calls libsodium without PyNaCl's SignedMessage; Ed25519 is deterministic.
    expected = nacl.signing.SigningKey(KEY.export_seed()).sign(message).signature
    assert KEY.sign(message) == expected
