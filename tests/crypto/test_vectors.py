"""The checked-in envelope vectors still come out byte for byte, and still open."""

from __future__ import annotations

import json

import nacl.public

from gateway.crypto.envelope import TrustedSenderKeys, open_envelope, parse_envelope
from gateway.crypto.keys import PartnerKeyPair
from tests.vectors.generate import INPUTS, OUT, build

VECTORS = json.loads(OUT.read_text(encoding="utf-8"))


def test_vector_inputs_are_the_generators() -> None:
    assert VECTORS["inputs"] == INPUTS


def test_sealing_from_the_seeds_gives_the_vector_bytes() -> None:
    assert build(VECTORS["inputs"])["expected"] == VECTORS["expected"]


def test_vector_envelope_opens_for_each_recipient() -> None:
    raw = VECTORS["expected"]["envelope"].encode()
    envelope = parse_envelope(raw)
    assert envelope.digest.hex() == VECTORS["expected"]["envelope_sha256_hex"]
    s = VECTORS["inputs"]["sender"]
    sender = PartnerKeyPair.from_seeds(
        s["partner"], bytes.fromhex(s["ed25519_seed"]), bytes.fromhex(s["x25519_secret"])
    )
    for partner, r in VECTORS["inputs"]["recipients"].items():
        pair = PartnerKeyPair.from_seeds(
            partner, bytes.fromhex(r["ed25519_seed"]), bytes.fromhex(r["x25519_secret"])
        )
        opened = open_envelope(raw, pair, TrustedSenderKeys.of(sender.public))
        assert dict(opened.fields) == r["fields"]
        # Independent check: libsodium's own sealed-box open accepts the payload.
        nacl.public.SealedBox(pair.box_private_key()).decrypt(envelope.payloads[partner])
