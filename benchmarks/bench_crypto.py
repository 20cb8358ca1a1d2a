"""Seal and open a 1 KiB projection for 1, 2 and 3 recipients, beside the raw PyNaCl floor.

The floor is the work no implementation can avoid, done with raw PyNaCl in the same run: per
recipient one sealed box (ephemeral X25519 key, X25519 agreement, XSalsa20-Poly1305) over the
same plaintext size, plus one Ed25519 signature over the same signed-byte size (seal); one
sealed-box open plus one Ed25519 verification (open).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import nacl.public
import nacl.signing

from benchmarks.harness import Figure, paired_rates
from gateway.crypto import envelope as env
from gateway.crypto.envelope import TrustedSenderKeys, open_envelope, seal
from gateway.crypto.keys import PartnerKeyPair

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
RECIPIENTS = ("amw-midden-limburg", "gemeente-weert-intake", "gemeente-weert-participatie")


def _fields() -> dict[str, str]:
    # Eight text fields of 120 characters: about 1 KiB of JSON per projection.
    return {f"field_{i}": ("Maasstraat 12 Weert " * 6)[:120] for i in range(8)}


def _measure(count: int, seconds: float, repeats: int) -> list[Figure]:
    sender = PartnerKeyPair.generate("wonen-limburg")
    pairs = {p: PartnerKeyPair.generate(p) for p in RECIPIENTS[:count]}
    trusted = TrustedSenderKeys.of(sender.public)
    fields = _fields()

    def do_seal() -> env.Envelope:
        return seal(
            sender,
            flow="referral-to-amw",
            policy_version="c8" * 32,
            projections={p: (pair.public, fields) for p, pair in pairs.items()},
            created=NOW,
            case_ref="case-0123456789",
            routing={"priority": True},
        )

    sample = do_seal()
    raw = sample.to_bytes()
    opener = pairs[RECIPIENTS[0]]
    box = nacl.public.SealedBox(opener.box_private_key())
    ciphertext = sample.payloads[opener.partner]
    plaintext = b"x" * len(box.decrypt(ciphertext))
    signed = b"y" * len(env._signed_bytes(sample.header, sample.payloads))
    raw_signer = nacl.signing.SigningKey.generate()
    signature = raw_signer.sign(signed).signature
    publics = [pair.box_private_key().public_key for pair in pairs.values()]

    def floor_seal() -> None:
        for public in publics:
            nacl.public.SealedBox(public).encrypt(plaintext)
        raw_signer.sign(signed)

    def floor_open() -> None:
        box.decrypt(ciphertext)
        raw_signer.verify_key.verify(signed, signature)

    def do_open() -> None:
        open_envelope(raw, opener, trusted)

    seal_rate, seal_floor = paired_rates(do_seal, floor_seal, min_seconds=seconds, repeats=repeats)
    open_rate, open_floor = paired_rates(do_open, floor_open, min_seconds=seconds, repeats=repeats)
    return [
        Figure(
            f"seal 1 KiB, {count} recipient(s)",
            seal_rate,
            "envelopes/s",
            seal_floor,
            "raw PyNaCl",
            goal_ratio=0.7,
        ),
        Figure(
            f"open 1 KiB, {count} recipient(s)",
            open_rate,
            "envelopes/s",
            open_floor,
            "raw PyNaCl",
            goal_ratio=0.7,
        ),
    ]


def collect(quick: bool) -> Iterable[Figure]:
    seconds = 0.02 if quick else 0.25
    repeats = 1 if quick else 6
    for count in (1, 2, 3):
        yield from _measure(count, seconds, repeats)
