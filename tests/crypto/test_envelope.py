"""Sealed envelopes: each tampering raises its own typed error and never returns plaintext."""

from __future__ import annotations

import json
from dataclasses import replace

import nacl.public
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.crypto import envelope as env
from gateway.crypto.encoding import b64u_encode
from gateway.crypto.envelope import (
    Envelope,
    TrustedSenderKeys,
    open_envelope,
    parse_envelope,
    seal,
    verify_sender,
)
from gateway.crypto.errors import (
    BindingMismatch,
    CryptoError,
    DecryptionFailed,
    EnvelopeMalformed,
    EnvelopeTooLarge,
    ManifestMismatch,
    NotARecipient,
    SenderKeyRevoked,
    SignatureInvalid,
    UnknownSenderKey,
    UnsupportedVersion,
)
from gateway.crypto.keys import PartnerKeyPair
from tests.crypto.factories import (
    AMW,
    AMW_FIELDS,
    DIRECTOR,
    INTAKE,
    INTAKE_FIELDS,
    LANDLORD,
    signal_envelope,
    trusted,
)

ENVELOPE = signal_envelope()
RAW = ENVELOPE.to_bytes()


def resign(envelope: Envelope, signer: PartnerKeyPair = LANDLORD) -> Envelope:
    """An envelope whose signature is valid again after a change (an attacker with a key)."""
    return replace(
        envelope,
        signature=signer.signing_key.sign(env._signed_bytes(envelope.header, envelope.payloads)),
    )


def test_each_recipient_opens_only_its_own_projection() -> None:
    assert dict(open_envelope(RAW, INTAKE, trusted()).fields) == INTAKE_FIELDS
    assert dict(open_envelope(RAW, AMW, trusted()).fields) == AMW_FIELDS


def test_round_trip_through_canonical_bytes() -> None:
    assert parse_envelope(RAW) == ENVELOPE
    assert ENVELOPE.digest == env.envelope_hash(parse_envelope(RAW))


def test_sealed_boxes_are_libsodium_compatible() -> None:
    plaintext = nacl.public.SealedBox(INTAKE.box_private_key()).decrypt(
        ENVELOPE.payloads[INTAKE.partner]
    )
    assert json.loads(plaintext)["fields"] == INTAKE_FIELDS


def test_gateway_verifies_sender_without_decrypting() -> None:
    verify_sender(ENVELOPE, LANDLORD.public.ed25519)
    with pytest.raises(NotARecipient):
        verify_sender(ENVELOPE, AMW.public.ed25519)


def test_landlord_cannot_read_amw_referral() -> None:
    with pytest.raises(NotARecipient):
        open_envelope(RAW, LANDLORD, trusted())


def test_director_not_listed_cannot_open() -> None:
    with pytest.raises(NotARecipient):
        open_envelope(RAW, DIRECTOR, trusted())


def test_recipient_with_a_new_key_cannot_open_old_projection() -> None:
    rotated = PartnerKeyPair.generate(INTAKE.partner)
    with pytest.raises(NotARecipient):
        open_envelope(RAW, rotated, trusted())


def test_tampered_header_fails_the_signature() -> None:
    header = replace(ENVELOPE.header, routing={"priority": False})
    with pytest.raises(SignatureInvalid):
        open_envelope(replace(ENVELOPE, header=header).to_bytes(), INTAKE, trusted())


def test_tampered_ciphertext_fails_the_signature() -> None:
    box = bytearray(ENVELOPE.payloads[INTAKE.partner])
    box[-1] ^= 1
    tampered = replace(ENVELOPE, payloads={**ENVELOPE.payloads, INTAKE.partner: bytes(box)})
    with pytest.raises(SignatureInvalid):
        open_envelope(tampered.to_bytes(), INTAKE, trusted())


def test_ciphertext_tampered_and_resigned_fails_decryption() -> None:
    box = bytearray(ENVELOPE.payloads[INTAKE.partner])
    box[40] ^= 1
    tampered = resign(replace(ENVELOPE, payloads={**ENVELOPE.payloads, INTAKE.partner: bytes(box)}))
    with pytest.raises(DecryptionFailed):
        open_envelope(tampered, INTAKE, trusted())


def test_ciphertexts_swapped_between_recipients_fail() -> None:
    swapped = {
        INTAKE.partner: ENVELOPE.payloads[AMW.partner],
        AMW.partner: ENVELOPE.payloads[INTAKE.partner],
    }
    with pytest.raises(SignatureInvalid):
        open_envelope(replace(ENVELOPE, payloads=swapped), INTAKE, trusted())
    with pytest.raises(DecryptionFailed):
        open_envelope(resign(replace(ENVELOPE, payloads=swapped)), INTAKE, trusted())


def test_ciphertext_moved_to_another_header_fails_binding() -> None:
    # A recipient (AMW) lifts the intake's sealed projection into an envelope of its own.
    other = signal_envelope(case_ref="case-9999999999")
    moved = resign(
        replace(
            other, payloads={**other.payloads, INTAKE.partner: ENVELOPE.payloads[INTAKE.partner]}
        )
    )
    with pytest.raises(BindingMismatch):
        open_envelope(moved, INTAKE, trusted())


def test_stripped_and_resigned_by_another_sender_fails_binding() -> None:
    # Encrypt-then-sign pitfall: AMW strips the landlord's signature and signs as itself.
    header = replace(ENVELOPE.header, sender=AMW.partner, sender_key_id=AMW.public.key_id)
    forged = resign(replace(ENVELOPE, header=header), signer=AMW)
    with pytest.raises(BindingMismatch):
        open_envelope(forged, INTAKE, trusted())


def test_manifest_differing_from_fields_is_refused() -> None:
    lying = signal_envelope()
    entries = tuple(
        replace(e, fields=tuple(sorted((*e.fields, "phone")))) if e.partner == INTAKE.partner else e
        for e in lying.header.recipients
    )
    # The sender lies in the manifest; the binding hash covers the header, so re-bind honestly:
    header = replace(lying.header, recipients=entries)
    projections = {
        INTAKE.partner: (INTAKE.public, INTAKE_FIELDS),
        AMW.partner: (AMW.public, AMW_FIELDS),
    }
    bound = env._header_hash(header)
    payloads = {
        p: env._seal_box(
            keys.x25519,
            env.canonical_json(
                {
                    "binding": {"header": bound, "recipient": p, "key": keys.encryption_key_id},
                    "fields": dict(values),
                }
            ),
            nacl.public.PrivateKey.generate(),
        )
        for p, (keys, values) in projections.items()
    }
    with pytest.raises(ManifestMismatch):
        open_envelope(resign(Envelope(header, payloads, b"\0" * 64)), INTAKE, trusted())


def test_unknown_and_revoked_sender_keys() -> None:
    with pytest.raises(UnknownSenderKey):
        open_envelope(RAW, INTAKE, TrustedSenderKeys.of(INTAKE.public))
    revoked = TrustedSenderKeys(trusted().keys, frozenset({LANDLORD.public.key_id}))
    with pytest.raises(SenderKeyRevoked):
        open_envelope(RAW, INTAKE, revoked)


def test_wrong_sender_key_under_right_id_fails() -> None:
    impostor = PartnerKeyPair.generate(LANDLORD.partner)
    keys = {(LANDLORD.partner, LANDLORD.public.key_id): impostor.public.ed25519}
    with pytest.raises(NotARecipient):
        open_envelope(RAW, INTAKE, TrustedSenderKeys(keys))


def test_truncated_envelope_is_malformed() -> None:
    for cut in (0, 1, len(RAW) // 2, len(RAW) - 1):
        with pytest.raises(EnvelopeMalformed):
            parse_envelope(RAW[:cut])


def test_oversized_envelope_is_refused_before_parsing() -> None:
    with pytest.raises(EnvelopeTooLarge):
        parse_envelope(b"{" * (env.MAX_ENVELOPE_BYTES + 1))
    with pytest.raises(EnvelopeTooLarge):
        parse_envelope(RAW, max_bytes=len(RAW) - 1)


def test_unknown_version_is_refused() -> None:
    doc = ENVELOPE.to_json()
    doc["header"]["v"] = 2
    with pytest.raises(UnsupportedVersion):
        parse_envelope(env.canonical_json(doc))


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.update(extra=1),
        lambda d: d["header"].update(colour="red"),
        lambda d: d["header"].update(flow="Not A Slug"),
        lambda d: d["header"]["recipients"].reverse(),
        lambda d: d["payloads"].pop("amw-midden-limburg"),
        lambda d: d.update(signature="!!"),
        lambda d: d["header"]["routing"].update(priority=1.5),
        lambda d: d["header"].update(created="24-11-2026"),
    ],
)
def test_malformed_structures_are_refused(change) -> None:  # type: ignore[no-untyped-def]
    doc = json.loads(RAW)
    change(doc)
    data = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    with pytest.raises(EnvelopeMalformed):
        parse_envelope(data)


def test_non_canonical_bytes_are_refused() -> None:
    with pytest.raises(EnvelopeMalformed, match="canonical"):
        parse_envelope(json.dumps(json.loads(RAW), indent=1).encode())


def test_duplicate_keys_are_refused() -> None:
    doubled = RAW.replace(b'{"header":', b'{"header":{},"header":', 1)
    with pytest.raises(EnvelopeMalformed, match="canonical"):
        parse_envelope(doubled)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_no_changed_byte_ever_opens(data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(RAW) - 1))
    flip = data.draw(st.integers(1, 255))
    changed = bytearray(RAW)
    changed[index] ^= flip
    # Every refusal is a typed CryptoError (envelope errors and SignatureInvalid alike).
    with pytest.raises(CryptoError):
        open_envelope(bytes(changed), INTAKE, trusted())


def test_seal_refuses_keys_of_another_partner() -> None:
    with pytest.raises(EnvelopeMalformed):
        seal(
            LANDLORD,
            flow="f-x",
            policy_version="0" * 64,
            created=ENVELOPE.header.created_at(),
            projections={INTAKE.partner: (AMW.public, {"a": "b"})},
        )


def test_seal_refuses_floats_in_fields() -> None:
    with pytest.raises(EnvelopeMalformed, match="float"):
        signal_envelope(projections={INTAKE.partner: (INTAKE.public, {"arrears_amount": 1.5})})


def test_signature_and_message_id_are_base64url() -> None:
    assert len(ENVELOPE.header.message_id) == 22
    assert b64u_encode(ENVELOPE.signature) in RAW.decode()


def test_new_message_ids_never_look_like_a_command_line_option() -> None:
    from gateway.crypto.envelope import new_message_id

    ids = [new_message_id() for _ in range(2000)]
    assert all(len(i) == 22 and i[0].isalnum() for i in ids)
    assert len(set(ids)) == len(ids)
